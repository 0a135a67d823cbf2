using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// The desktop page at <c>/desktop/{projectId}</c>, its script and style, and noVNC's ES modules from the Debian package
/// (<see cref="DesktopOptions.NoVncDirectory"/>) under <c>/desktop/novnc/</c>: served by the SPE itself, never from a CDN, with a
/// policy that runs only scripts from this origin and connects only to it. The page holds no data and no secret (anonymous);
/// what it shows comes from the API with the person's token.
/// </summary>
internal static class DesktopPage
{
    /// <summary>The page's Content-Security-Policy: scripts, styles and connections from this origin only; no inline script.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly string[] NoVncFolders = ["core/", "vendor/pako/"];

    /// <summary>Maps the page and its files.</summary>
    public static IEndpointRouteBuilder MapDesktopPage(this IEndpointRouteBuilder routes)
    {
        // Note: the route value is not named projectId, because the page is no project request: the access gate judges the API calls it makes.
        routes.MapGet("/desktop/{project}", Page).WithName("pages.desktop").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/desktop/desktop.js", () => Embedded("desktop.js", "text/javascript")).WithName("pages.desktop.script").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/desktop/desktop.css", () => Embedded("desktop.css", "text/css")).WithName("pages.desktop.style").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/desktop/novnc/{**path}", NoVnc).WithName("pages.desktop.novnc").AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static IResult Page(string project, HttpContext context)
    {
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        var html = Read("desktop.html").Replace("<html lang=\"en\">", $"<html lang=\"en\" data-project=\"{WebUtility.HtmlEncode(project)}\">", StringComparison.Ordinal);
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static IResult Embedded(string name, string contentType) => Results.Content(Read(name), contentType + "; charset=utf-8");

    private static IResult NoVnc(string path, IOptions<DesktopOptions> options)
    {
        // Note: only noVNC's client modules, by a path with no '..', so the route cannot serve any other file of the host.
        if (!path.EndsWith(".js", StringComparison.Ordinal) || path.Contains("..", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal)
            || !NoVncFolders.Any(f => path.StartsWith(f, StringComparison.Ordinal)))
        {
            return Results.NotFound();
        }

        var root = Path.GetFullPath(options.Value.NoVncDirectory);
        var file = Path.GetFullPath(Path.Combine(root, path));
        return file.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(file)
            ? Results.File(file, "text/javascript; charset=utf-8")
            : Results.NotFound();
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenSpe.Server.Desktop." + name)
            ?? throw new InvalidOperationException($"The desktop page's {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
