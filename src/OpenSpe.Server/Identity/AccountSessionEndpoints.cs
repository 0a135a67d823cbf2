using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenIddict.Abstractions;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>
/// The caller's own sign-in sessions: list them, end one, end all the others. A session is one sign-in with credentials (its
/// OpenIddict authorization) whose refresh token is still valid; rotation keeps the same authorization.
/// </summary>
/// <remarks>
/// Note: ending a session revokes its authorization and its refresh token, so it can never be renewed; an access token it
/// already holds stays valid until it expires (Tokens:AccessTokenLifetime, 10 minutes by default), because the API checks
/// access tokens without a database round trip. To end every session at once, sign out (revocation changes the security
/// stamp) or change the password.
/// </remarks>
internal static class AccountSessionEndpoints
{
    /// <summary>Maps <c>/api/v1/account/sessions</c>.</summary>
    public static IEndpointRouteBuilder MapAccountSessionEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/account/sessions").WithTags("Account").WithMetadata(new AuditResourceAttribute("account"))
            .RequireAuthorization(SpePolicies.Human).ProducesCommonProblems().ProducesSignedInProblems();
        group.MapGet("", ListAsync).WithName("account.sessions.list")
            .WithSummary("The caller's own live sign-in sessions, the current one marked.");
        group.MapDelete("/{id}", EndAsync).WithName("account.sessions.end").ProducesProblems(404)
            .WithSummary("Ends one of the caller's own sessions (it cannot be renewed; its access token lapses within its lifetime).");
        group.MapPost("/end-others", EndOthersAsync).WithName("account.sessions.end-others")
            .WithSummary("Ends every session of the caller except the current one.");
        return routes;
    }

    private static async Task<Ok<List<AccountSessionView>>> ListAsync(HttpContext context, IOpenIddictAuthorizationManager authorizations,
        IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications, TimeProvider time) =>
        TypedResults.Ok(await LiveAsync(context, authorizations, tokens, applications, time));

    private static async Task<Results<NoContent, ProblemHttpResult>> EndAsync(string id, HttpContext context, IOpenIddictAuthorizationManager authorizations,
        IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications, TimeProvider time, IAuditLog audit, SessionStateCache sessions)
    {
        var live = await LiveAsync(context, authorizations, tokens, applications, time);
        // Note: only a live session of the caller's own is found: another person's session id, an ended one and an unknown
        // one get the same 404, so the endpoint tells nothing about other people's sessions.
        if (!live.Any(s => string.Equals(s.Id, id, StringComparison.Ordinal)))
        {
            AuditDenialReason.Set(context, "session-unknown");
            return Problems.Of(404, "No live session of yours has this id. List your sessions to see their ids.");
        }

        await RevokeAsync(id, authorizations, tokens, sessions, context.RequestAborted);
        await AuditAsync(audit, context, "account.session.ended", 1);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<SessionsEndedView>> EndOthersAsync(HttpContext context, IOpenIddictAuthorizationManager authorizations,
        IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications, TimeProvider time, IAuditLog audit, SessionStateCache sessions)
    {
        var others = (await LiveAsync(context, authorizations, tokens, applications, time)).Where(s => !s.Current).ToList();
        foreach (var session in others)
        {
            await RevokeAsync(session.Id, authorizations, tokens, sessions, context.RequestAborted);
        }

        await AuditAsync(audit, context, "account.sessions.others-ended", others.Count);
        return TypedResults.Ok(new SessionsEndedView(others.Count));
    }

    /// <summary>The caller's sessions that can still be renewed: a valid authorization with a valid, unexpired refresh token.</summary>
    private static async Task<List<AccountSessionView>> LiveAsync(HttpContext context, IOpenIddictAuthorizationManager authorizations,
        IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications, TimeProvider time)
    {
        var cancellationToken = context.RequestAborted;
        var subject = context.User.FindFirst(Claims.Subject)?.Value;
        var current = context.User.FindFirst(Claims.Private.AuthorizationId)?.Value;
        var sessions = new List<AccountSessionView>();
        if (subject is null)
        {
            return sessions;
        }

        var now = time.GetUtcNow();
        await foreach (var authorization in authorizations.FindBySubjectAsync(subject, cancellationToken))
        {
            if (!await authorizations.HasStatusAsync(authorization, Statuses.Valid, cancellationToken))
            {
                continue;
            }

            var id = await authorizations.GetIdAsync(authorization, cancellationToken);
            DateTimeOffset? renewed = null;
            DateTimeOffset? expires = null;
            await foreach (var token in tokens.FindByAuthorizationIdAsync(id!, cancellationToken))
            {
                if (await tokens.HasTypeAsync(token, TokenTypeIdentifiers.RefreshToken, cancellationToken)
                    && await tokens.HasStatusAsync(token, Statuses.Valid, cancellationToken)
                    && await tokens.GetExpirationDateAsync(token, cancellationToken) is { } expiry && expiry > now)
                {
                    var created = await tokens.GetCreationDateAsync(token, cancellationToken);
                    if (renewed is null || created > renewed)
                    {
                        renewed = created;
                        expires = expiry;
                    }
                }
            }

            if (expires is null)
            {
                continue;
            }

            var applicationId = await authorizations.GetApplicationIdAsync(authorization, cancellationToken);
            var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, cancellationToken);
            sessions.Add(new AccountSessionView(id!, application is null ? null : await applications.GetClientIdAsync(application, cancellationToken),
                await authorizations.GetCreationDateAsync(authorization, cancellationToken), renewed, expires,
                string.Equals(id, current, StringComparison.Ordinal)));
        }

        return [.. sessions.OrderByDescending(s => s.Current).ThenByDescending(s => s.CreatedAt)];
    }

    private static async Task RevokeAsync(string id, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, SessionStateCache sessions,
        CancellationToken cancellationToken)
    {
        if (await authorizations.FindByIdAsync(id, cancellationToken) is { } authorization)
        {
            await authorizations.TryRevokeAsync(authorization, cancellationToken);
        }

        await tokens.RevokeByAuthorizationIdAsync(id, cancellationToken);
        sessions.Invalidate(id);
    }

    private static Task<long> AuditAsync(IAuditLog audit, HttpContext context, string action, int count) =>
        audit.AppendAsync(new AuditEntry(
            AuditActors.From(context.User, context),
            action, new AuditResource("account", context.User.FindFirst(Claims.Subject)?.Value, null), AuditOutcome.Success, null, TraceIds.Current(context),
            new Dictionary<string, string> { ["sessions"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
}
