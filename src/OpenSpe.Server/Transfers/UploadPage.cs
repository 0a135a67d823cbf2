using System.Globalization;
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// The data holder's upload page at <c>/upload/{projectId}</c> (EHDSR-11, TIR-5): the file is encrypted in the browser with
/// Crypt4GH for the project's public key and sent over tus with resume; its script, its Crypt4GH module and style, and the
/// browser libraries (npm <c>@noble/curves</c>, <c>@noble/ciphers</c>, <c>@noble/hashes</c>, <c>tus-js-client</c>, installed by
/// <c>deploy/install-upload-js.sh</c>; <see cref="UploadPageOptions.LibraryDirectory"/>) under <c>/upload/lib/</c>: served by the
/// SPE itself, never from a CDN, with a policy that runs only scripts from this origin and connects only to it. The page holds
/// no data and no secret (anonymous); what it does goes through the API with the person's token, where the access chain decides.
/// </summary>
internal static class UploadPage
{
    /// <summary>The page's Content-Security-Policy: scripts, styles and connections from this origin only; no inline script, no eval.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>The folders of the library directory the route serves from.</summary>
    private static readonly string[] LibraryFolders = ["noble-curves/", "noble-ciphers/", "noble-hashes/", "tus/"];

    /// <summary>Maps the page and its files.</summary>
    public static IEndpointRouteBuilder MapUploadPage(this IEndpointRouteBuilder routes)
    {
        // Note: the route value is not named projectId, because the page is no project request: the access gate judges the API calls it makes.
        routes.MapGet("/upload/{project}", Page).WithName("pages.upload").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/upload/upload.js", () => Embedded("upload.js", "text/javascript")).WithName("pages.upload.script").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/upload/crypt4gh.js", () => Embedded("crypt4gh.js", "text/javascript")).WithName("pages.upload.crypt4gh").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/upload/upload.css", () => Embedded("upload.css", "text/css")).WithName("pages.upload.style").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/upload/lib/{**path}", Library).WithName("pages.upload.library").AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static IResult Page(string project, HttpContext context, IOptions<UploadPageOptions> options)
    {
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        var chunk = options.Value.ChunkBytes.ToString(CultureInfo.InvariantCulture);
        var html = Read("upload.html").Replace("<html lang=\"en\">",
            $"<html lang=\"en\" data-project=\"{WebUtility.HtmlEncode(project)}\" data-chunk-bytes=\"{chunk}\">", StringComparison.Ordinal);
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static IResult Embedded(string name, string contentType) => Results.Content(Read(name), contentType + "; charset=utf-8");

    private static IResult Library(string path, IOptions<UploadPageOptions> options)
    {
        // Note: only JavaScript files of the installed packages, by a path with no '..', so the route cannot serve any other file of the host.
        if (!path.EndsWith(".js", StringComparison.Ordinal) || path.Contains("..", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal)
            || !LibraryFolders.Any(f => path.StartsWith(f, StringComparison.Ordinal)))
        {
            return Results.NotFound();
        }

        var root = Path.GetFullPath(options.Value.LibraryDirectory);
        var file = Path.GetFullPath(Path.Combine(root, path));
        return file.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(file)
            ? Results.File(file, "text/javascript; charset=utf-8")
            : Results.NotFound();
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenSpe.Server.Transfers." + name)
            ?? throw new InvalidOperationException($"The upload page's {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
