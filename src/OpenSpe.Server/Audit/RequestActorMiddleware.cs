using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Authenticates a bearer token before the rate limiter and the audit middleware (the result is
/// cached for the rest of the request), so both know who is asking: the limiter's per-identity
/// bucket and every audit record, the intent record included, name the actor.
/// </summary>
internal sealed class RequestActorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Headers.Authorization.Count > 0)
        {
            var authentication = await context.AuthenticateAsync();
            if (authentication.Succeeded)
            {
                context.User = authentication.Principal;
            }
        }

        await next(context);
    }
}
