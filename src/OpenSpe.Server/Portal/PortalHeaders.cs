using Microsoft.AspNetCore.Http;

namespace OpenSpe.Server.Portal;

/// <summary>The portal's response headers.</summary>
internal static class PortalHeaders
{
    /// <summary>
    /// The portal's Content-Security-Policy: script and style only from this origin (no inline script, no eval), nothing
    /// from another origin, forms only to this origin, never framed.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Sets the portal's headers on <paramref name="response"/>.</summary>
    public static void Apply(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        // Note: pages carry a person's data and an anti-forgery token: never cached, by the browser or anything between.
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers.Pragma = "no-cache";
    }
}
