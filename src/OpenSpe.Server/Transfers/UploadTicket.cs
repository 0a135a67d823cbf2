using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// Upload tickets: what the browser upload page works with instead of the person's own access token. A ticket is a token
/// for the same person (their subject, roles, second factor and security stamp, so disabling them or a logout ends it too)
/// with a scope: it opens only the endpoints the page needs — the project's datasets and public key, the admission check
/// and tus — and only for the one project it was issued for. Anywhere else it is not a valid token
/// (<see cref="SessionValidation"/>), so a script that got hold of it could upload to that project, and nothing more.
/// </summary>
internal static class UploadTicket
{
    /// <summary>The scope claim's value.</summary>
    public const string Scope = "upload";

    /// <summary>The project actions a ticket opens (<see cref="ProjectActionAttribute.Name"/>); a ticket never opens its own renewal.</summary>
    public static IReadOnlySet<string> Actions { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "project.datasets.list", "project.public-key", "uploads.options", "uploads.admission", "uploads.create", "uploads.offset", "uploads.append", "uploads.terminate",
    };

    /// <summary>True when <paramref name="principal"/>'s scope opens the endpoint <paramref name="context"/> is routed to.</summary>
    public static bool Allows(HttpContext context, ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(principal);
        var action = context.GetEndpoint()?.Metadata.GetMetadata<ProjectActionAttribute>();
        return principal.FindFirst(SpeClaims.Scope)?.Value == Scope
            && action is not null && Actions.Contains(action.Name)
            && context.Request.RouteValues["projectId"] is string projectId
            && string.Equals(projectId, principal.FindFirst(SpeClaims.ScopeProject)?.Value, StringComparison.Ordinal);
    }

    /// <summary>Issues a ticket for the calling holder and this project (the access chain has let the request through).</summary>
    public static Ok<OpenSpe.Contracts.UploadTicketView> Issue(string projectId, HttpContext context, AccessTokenIssuer issuer, IOptions<TokenOptions> options, TimeProvider time)
    {
        var user = context.User;
        var lifetime = options.Value.AccessTokenLifetime;
        var ticket = issuer.Issue(new TokenSubject(
            user.FindFirst("sub")!.Value,
            user.FindFirst("preferred_username")?.Value ?? "",
            [.. user.FindAll("role").Select(c => c.Value)],
            [.. user.FindAll("amr").Select(c => c.Value)],
            Stamp: user.FindFirst(SpeClaims.Stamp)?.Value,
            Scope: Scope,
            ScopeProject: projectId), lifetime);
        return TypedResults.Ok(new OpenSpe.Contracts.UploadTicketView(ticket, time.GetUtcNow().Add(lifetime)));
    }
}
