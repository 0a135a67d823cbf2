using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// The terminal page at <c>/terminal/{projectId}</c>, its script and style, and xterm.js (npm <c>@xterm/xterm</c>, installed on the
/// host by <c>deploy/install-xterm.sh</c>; <see cref="TerminalOptions.XtermDirectory"/>) under <c>/terminal/xterm/</c>: served by
/// the SPE itself, never from a CDN, with a policy that runs only scripts from this origin and connects only to it. The page holds
/// no data and no secret (anonymous); what it shows comes from the API with the person's token.
/// </summary>
internal static class TerminalPage
{
    /// <summary>
    /// The page's Content-Security-Policy: scripts and connections from this origin only, no inline script.
    /// Note: styles allow 'unsafe-inline' because xterm.js sizes and colours its rows with &lt;style&gt; elements it creates at run
    /// time; nothing on the page is markup from a server or a user (terminal output is drawn as text), so there is no injected
    /// markup such a style could come from, and script stays 'self' only.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>The files of xterm.js the page uses, by the name they are served under, and their path in the package.</summary>
    private static readonly Dictionary<string, (string Path, string ContentType)> XtermFiles = new(StringComparer.Ordinal)
    {
        ["xterm.mjs"] = ("lib/xterm.mjs", "text/javascript; charset=utf-8"),
        ["xterm.css"] = ("css/xterm.css", "text/css; charset=utf-8"),
    };

    /// <summary>Maps the page and its files.</summary>
    public static IEndpointRouteBuilder MapTerminalPage(this IEndpointRouteBuilder routes)
    {
        // Note: the route value is not named projectId, because the page is no project request: the access gate judges the API calls it makes.
        routes.MapGet("/terminal/{project}", Page).WithName("pages.terminal").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/terminal/terminal.js", () => Embedded("terminal.js", "text/javascript")).WithName("pages.terminal.script").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/terminal/terminal.css", () => Embedded("terminal.css", "text/css")).WithName("pages.terminal.style").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/terminal/xterm/{file}", Xterm).WithName("pages.terminal.xterm").AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static IResult Page(string project, HttpContext context)
    {
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        var html = Read("terminal.html").Replace("<html lang=\"en\">", $"<html lang=\"en\" data-project=\"{WebUtility.HtmlEncode(project)}\">", StringComparison.Ordinal);
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static IResult Embedded(string name, string contentType) => Results.Content(Read(name), contentType + "; charset=utf-8");

    private static IResult Xterm(string file, IOptions<TerminalOptions> options)
    {
        // Note: only the named files of the package, so the route cannot serve any other file of the host.
        if (!XtermFiles.TryGetValue(file, out var entry))
        {
            return Results.NotFound();
        }

        var path = Path.Join(options.Value.XtermDirectory, entry.Path);
        return File.Exists(path) ? Results.File(path, entry.ContentType) : Results.NotFound();
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenSpe.Server.Terminal." + name)
            ?? throw new InvalidOperationException($"The terminal page's {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
