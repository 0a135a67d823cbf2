using System.Security.Cryptography;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;

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

        var subject = principal.FindFirst("sub")?.Value;
        var stamp = principal.FindFirst(SpeClaims.Stamp)?.Value;
        var state = subject is null ? null : await services.GetRequiredService<AccountStateCache>().GetAsync(subject, cancellationToken);
        // Note: a token issued before a password change, factor reset, role revocation, disabling or logout carries an older stamp and is refused (revocation within a second).
        if (state is null || state.Disabled || stamp is null
            || !CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(stamp.AsSpan()), MemoryMarshal.AsBytes(state.Stamp.AsSpan())))
        {
            context.Fail(new SessionEndedException("The session has ended."));
        }
    }
}

/// <summary>The token is genuine, but the session behind it has ended.</summary>
internal sealed class SessionEndedException(string message) : Exception(message);
