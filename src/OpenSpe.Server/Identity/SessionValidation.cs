using System.Security.Cryptography;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace OpenSpe.Server.Identity;

/// <summary>
/// The check after a local access token's signature, issuer, audience and lifetime are valid: is the
/// session behind it still alive? A person's token must carry the account's current security stamp
/// and the account must be enabled; an application's token needs the application to still exist.
/// </summary>
internal static class SessionValidation
{
    public static async Task CheckAsync(TokenValidatedContext context)
    {
        var principal = context.Principal;
        var services = context.HttpContext.RequestServices;
        var cancellationToken = context.HttpContext.RequestAborted;
        if (principal is null)
        {
            context.Fail("No principal.");
            return;
        }

        if (IdentitySetup.IsClient(principal))
        {
            var clientId = principal.FindFirst("client_id")?.Value;
            if (clientId is null || !await services.GetRequiredService<ApplicationStateCache>().ExistsAsync(clientId, cancellationToken))
            {
                context.Fail(new SessionEndedException("The application no longer exists."));
            }

            return;
        }

        if (!await IsPersonSessionAliveAsync(principal, services, cancellationToken))
        {
            context.Fail(new SessionEndedException("The session has ended."));
            return;
        }

        // Note: a scoped token (an upload ticket) is checked here, where every local token is validated, so no endpoint can
        // forget it: outside its scope it is not a valid token at all.
        if (principal.HasClaim(c => c.Type == SpeClaims.Scope) && !Transfers.UploadTicket.Allows(context.HttpContext, principal))
        {
            context.Fail("This token is an upload ticket: it opens only its project's upload.");
        }
    }

    /// <summary>
    /// True while a person's sign-in is alive: the account exists, is enabled and still has the security stamp the principal
    /// carries. Also asked by long-lived connections (the desktop gateway) while they run.
    /// </summary>
    public static async Task<bool> IsPersonSessionAliveAsync(System.Security.Claims.ClaimsPrincipal principal, IServiceProvider services, CancellationToken cancellationToken)
    {
        var subject = principal.FindFirst("sub")?.Value;
        var stamp = principal.FindFirst(SpeClaims.Stamp)?.Value;
        var state = subject is null ? null : await services.GetRequiredService<AccountStateCache>().GetAsync(subject, cancellationToken);
        // Note: a token issued before a password change, factor reset, role revocation, disabling or logout carries an older stamp and is refused (revocation within a second).
        if (state is null || state.Disabled || stamp is null
            || !CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(stamp.AsSpan()), MemoryMarshal.AsBytes(state.Stamp.AsSpan())))
        {
            return false;
        }

        // Note: a token of one sign-in session names it; once that session is ended (by its owner, from the sessions list) the token
        // is refused within a second, rather than living to its expiry while the owner believes the session is gone.
        var session = principal.FindFirst(OpenIddictConstants.Claims.Private.AuthorizationId)?.Value;
        return session is null || await services.GetRequiredService<SessionStateCache>().IsValidAsync(session, cancellationToken);
    }
}

/// <summary>The token is genuine, but the session behind it has ended.</summary>
internal sealed class SessionEndedException(string message) : Exception(message);
