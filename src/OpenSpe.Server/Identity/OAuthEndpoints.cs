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
/// rotation, client credentials for applications bound to an account, and the device and
/// authorization-code grants completed on the sign-in page.
/// </summary>
public static class OAuthEndpoints
{
    /// <summary>Maps <c>/connect/token</c>.</summary>
    public static IEndpointRouteBuilder MapOAuthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/connect/token", ExchangeAsync).WithName("oauth.token").AllowAnonymous().ExcludeFromDescription()
            .DisableAntiforgery();
        return routes;
    }

    private static async Task<IResult> ExchangeAsync(HttpContext context, SignInService signIn, UserManager<SpeUser> users, TokenPrincipals principals,
        IOpenIddictApplicationManager applications, IAuditLog audit)
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
            var user = result.Principal?.GetClaim(Claims.Subject) is { } id ? await users.FindByIdAsync(id) : null;
            if (user is null || user.Disabled)
            {
                AuditDenialReason.Set(context, "account-inactive");
                return Refuse("The account can no longer sign in.");
            }

            var methods = result.Principal!.GetClaims("amr");
            ClaimsPrincipal principal = result.Principal!.GetClaim("client_id") is { } boundClient && methods.IsEmpty
                ? await principals.ForClientAsync(user, boundClient, result.Principal!.GetScopes())
                : await principals.ForPersonAsync(user, methods, result.Principal!.GetScopes());
            await AuditIssueAsync(audit, context, user, request.GrantType!, request.ClientId);
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsClientCredentialsGrantType())
        {
            var application = await applications.FindByClientIdAsync(request.ClientId!);
            var properties = application is null ? ImmutableDictionary<string, JsonElement>.Empty : await applications.GetPropertiesAsync(application);
            var accountId = properties.TryGetValue(IdentitySeeder.AccountProperty, out var bound) ? bound.GetString() : null;
            var account = accountId is null ? null : await users.FindByIdAsync(accountId);
            if (account is null || account.Disabled)
            {
                AuditDenialReason.Set(context, "client-account-inactive");
                return Refuse("This client is not bound to an active account.");
            }

            var principal = await principals.ForClientAsync(account, request.ClientId!, request.GetScopes());
            await AuditIssueAsync(audit, context, account, "client_credentials", request.ClientId);
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
