using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// The page a browser sees at <c>/</c> until the web portal exists: the product, its version and
/// where to go (the CLI, the docs). Signing in on <c>/account/login</c> without a return address
/// lands here, so the page says who is signed in. It holds no data and no script.
/// </summary>
internal static class LandingPage
{
    private static readonly string Version =
        typeof(LandingPage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>Maps <c>GET /</c>.</summary>
    public static IEndpointRouteBuilder MapLandingPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", (Delegate)ShowAsync).WithName("pages.home").AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static async Task<IResult> ShowAsync(HttpContext context)
    {
        // Note: the sign-in cookie is read only to greet; the page shows nothing an anonymous visitor could not see.
        var session = await context.AuthenticateAsync(IdentitySetup.SessionCookie);
        var name = session.Succeeded ? session.Principal?.FindFirst("preferred_username")?.Value ?? session.Principal?.Identity?.Name : null;
        var origin = $"https://{context.Request.Host.Value}";
        var body = new StringBuilder()
            .Append("<p>OpenSPE ").Append(WebUtility.HtmlEncode(Version)).Append(": a Secure Processing Environment for health data.</p>");
        body.Append(name is null
            ? "<p>You are not signed in.</p>"
            : $"<p>Signed in as <strong>{WebUtility.HtmlEncode(name)}</strong>.</p>");
        body.Append("<p>The web portal is planned and not built yet. Until it is, work with the <code>spe</code> command:</p>")
            .Append("<pre>spe login --server ").Append(WebUtility.HtmlEncode(origin)).Append("\nspe --help</pre>")
            .Append("<ul><li>API description: <a href=\"/openapi/v1.json\">/openapi/v1.json</a></li>")
            .Append("<li>Health: <a href=\"/healthz\">/healthz</a>, readiness: <a href=\"/readyz\">/readyz</a></li>")
            .Append("<li>Documentation: the <code>docs/</code> folder of the OpenSPE source (architecture, operations, errors).</li></ul>");
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        var html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>OpenSPE</title></head>" +
            $"<body><h1>OpenSPE</h1>{body}</body></html>";
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8);
    }
}
