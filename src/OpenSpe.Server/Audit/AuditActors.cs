using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>The one way a signed-in caller becomes an audit actor, so every record names people the same way (EHDSR-7).</summary>
internal static class AuditActors
{
    private const int MaxUserAgent = 256;

    /// <summary>The actor for a principal; with a request, also its source address and user agent.</summary>
    public static AuditActor From(ClaimsPrincipal user, HttpContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        var authenticated = user.Identity?.IsAuthenticated == true;
        var userAgent = context?.Request.Headers.UserAgent.ToString() ?? "";
        // An application's records name it and the person who registered it (FCR-7).
        var name = user.FindFirst("preferred_username")?.Value;
        if (user.FindFirst(Identity.SpeClaims.RegisteredBy)?.Value is { } registeredBy)
        {
            name = $"{name} (application registered by {registeredBy})";
        }

        return new AuditActor(
            authenticated ? user.FindFirst("sub")?.Value : null,
            authenticated ? name : null,
            authenticated ? user.FindAll("role").Select(c => c.Value).Order(StringComparer.Ordinal).ToArray() : [],
            authenticated ? user.FindFirst("client_id")?.Value : null,
            context?.Connection.RemoteIpAddress?.ToString(),
            userAgent.Length == 0 ? null : userAgent.Length > MaxUserAgent ? userAgent[..MaxUserAgent] : userAgent);
    }
}
