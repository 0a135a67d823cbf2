using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>
/// The token endpoint's decisions (OpenIddict validates the protocol, these handlers decide who
/// gets a token): direct sign-in with password and one-time code for the CLI, refresh with
/// rotation (never past the session's absolute lifetime, never after the account's security stamp
/// changed), client credentials for applications (principals of their own), and the device and
/// authorization-code grants completed on the sign-in page.
/// </summary>
internal static class OAuthEndpoints
{
    /// <summary>Maps <c>/connect/token</c>.</summary>
    public static IEndpointRouteBuilder MapOAuthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/connect/token", ExchangeAsync).WithName("oauth.token").AllowAnonymous().ExcludeFromDescription()
            .DisableAntiforgery();
        return routes;
    }

    private static async Task<IResult> ExchangeAsync(HttpContext context, SignInService signIn, UserManager<SpeUser> users, TokenPrincipals principals,
        IOpenIddictApplicationManager applications, IAuditLog audit, Microsoft.Extensions.Options.IOptions<TokenOptions> tokenOptions, TimeProvider time)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The OpenIddict request is missing.");
        if (request.IsPasswordGrantType())
        {
            var outcome = await signIn.SignInAsync(request.Username, request.Password, (string?)request["otp"], (string?)request["recovery_code"], context);
            if (!outcome.Succeeded)
            {
                return Refuse(SignInService.RefusalMessage(outcome));
            }

            var principal = await principals.ForPersonAsync(outcome.User!, outcome.AuthenticationMethods, request.GetScopes());
            await AuditIssueAsync(audit, context, outcome.User!, "password", request.ClientId);
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsRefreshTokenGrantType() || request.IsDeviceCodeGrantType() || request.IsAuthorizationCodeGrantType())
        {
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var previous = result.Principal ?? new ClaimsPrincipal();
            var user = previous.GetClaim(Claims.Subject) is { } id ? await users.FindByIdAsync(id) : null;
            if (user is null || user.Disabled)
            {
                AuditDenialReason.Set(context, "account-inactive");
                return Refuse("The account can no longer sign in.");
            }

            // Note: a refresh token from before a password change, factor reset, role revocation, disabling or logout is refused (its stamp is old).
            if (!string.Equals(previous.GetClaim(SpeClaims.Stamp), AccountStateCache.StampOf(user), StringComparison.Ordinal))
            {
                AuditDenialReason.Set(context, "session-ended");
                return Refuse("The session has ended: sign in again.");
            }

            // Note: rotation never extends a session past its absolute lifetime after the sign-in with credentials.
            var sessionStart = TokenPrincipals.SessionStartOf(previous);
            if (sessionStart is null || sessionStart.Value.Add(tokenOptions.Value.RefreshTokenLifetime) <= time.GetUtcNow())
            {
                AuditDenialReason.Set(context, "session-expired");
                return Refuse("The session has reached its absolute lifetime: sign in again.");
            }

            var principal = await principals.ForPersonAsync(user, previous.GetClaims("amr"), previous.GetScopes(), sessionStart);
            // Note: the renewed tokens keep the sign-in's authorization, so one sign-in stays one session a person can list and
            // end (GET /api/v1/account/sessions), instead of a new ad-hoc authorization at every rotation.
            principal.SetAuthorizationId(previous.GetAuthorizationId());
            await AuditIssueAsync(audit, context, user, request.GrantType!, request.ClientId);
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsClientCredentialsGrantType())
        {
            // OpenIddict has authenticated the client by its secret; only confidential clients may use this grant.
            var application = await applications.FindByClientIdAsync(request.ClientId!);
            if (application is null)
            {
                AuditDenialReason.Set(context, "application-unknown");
                return Refuse("This application is not registered.");
            }

            var properties = await applications.GetPropertiesAsync(application);
            var registeredBy = properties.TryGetValue(IdentitySeeder.RegisteredByProperty, out var by) ? by.GetString() : null;
            var principal = principals.ForApplication(request.ClientId!, registeredBy, request.GetScopes());
            await audit.AppendAsync(new AuditEntry(
                new AuditActor(TokenPrincipals.ApplicationSubject(request.ClientId!), request.ClientId, [], request.ClientId, context.Connection.RemoteIpAddress?.ToString(), null),
                "auth.token.issued", new AuditResource("application", request.ClientId, null), AuditOutcome.Success, null, TraceIds.Current(context),
                new Dictionary<string, string> { ["grant"] = "client_credentials", ["registeredBy"] = registeredBy ?? "" }));
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return Results.Forbid(Properties(Errors.UnsupportedGrantType, "This grant type is not supported."), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static IResult Refuse(string description) =>
        Results.Forbid(Properties(Errors.InvalidGrant, description), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    private static AuthenticationProperties Properties(string error, string description) => new(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
    });

    private static Task<long> AuditIssueAsync(IAuditLog audit, HttpContext context, SpeUser user, string grant, string? clientId) =>
        audit.AppendAsync(new AuditEntry(
            new AuditActor(user.Id, user.UserName, [], clientId, context.Connection.RemoteIpAddress?.ToString(), null),
            "auth.token.issued", new AuditResource("account", user.Id, null), AuditOutcome.Success, null, TraceIds.Current(context),
            new Dictionary<string, string> { ["grant"] = grant }));
}
