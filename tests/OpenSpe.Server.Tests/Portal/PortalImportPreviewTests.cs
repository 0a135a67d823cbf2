using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Tests.Airlock;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The import review page shows each file's preview to the independent checker as the export review page does (SPER-3,
/// EHDSR-13, TIR-25): a CSV as a table, an image inline from the page's own <c>Image</c> handler with the image's strict
/// headers, and why a file has none; a member reading the request gets no preview, the handler gives them the API's refusal,
/// and an export's file is not an import's.
/// </summary>
public sealed class PortalImportPreviewTests : IAsyncLifetime
{
    private const string Table = "code,label\nE11,Type 2 diabetes\n";
    private const string Script = "print('cohort helper v1')\n";

    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(importTypes: ["py", "csv", "png"]);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private async Task<string> ImportAsync()
    {
        using var form = new MultipartFormDataContent { { new StringContent("labels, a figure and a helper"), "reason" } };
        foreach (var (name, bytes) in new[] { ("labels.csv", Encoding.UTF8.GetBytes(Table)), ("figure.png", TestImages.Png), ("helper.py", Encoding.UTF8.GetBytes(Script)) })
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }

        using var created = await _w.Researcher.PostAsync($"/api/v1/projects/{_w.ProjectId}/imports", form);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "TIR-25")]
    public async Task The_checker_sees_the_csv_as_a_table_the_png_inline_from_the_pages_handler_and_why_the_script_has_none()
    {
        var project = _w.ProjectId;
        var request = await ImportAsync();
        using var checker = new PortalBrowser(_w.F.Server);
        using var _ = await checker.SignInAsync("checker");

        using var page = await checker.GetAsync($"/review/imports/{project}/{request}");
        var html = await page.Content.ReadAsStringAsync();
        using var png = await checker.GetAsync($"/review/imports/{project}/{request}?handler=Image&file=figure.png");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<h2>Previews</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<caption>Start of labels.csv</caption>", html, StringComparison.Ordinal);
        Assert.Contains("<th scope=\"col\">code</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td>Type 2 diabetes</td>", html, StringComparison.Ordinal);
        Assert.Contains($"<img src=\"/review/imports/{project}/{request}?handler=Image&amp;file=figure.png\" alt=\"The image figure.png, as submitted for import\">", html,
            StringComparison.Ordinal);
        Assert.Contains("&#x27;helper.py&#x27; is not a text file", html, StringComparison.Ordinal);
        Assert.DoesNotContain("is not shown: the API gives it to nobody", html, StringComparison.Ordinal);
        Assert.Contains("value=\"approve\"", html, StringComparison.Ordinal);
        Assert.True(png.StatusCode == HttpStatusCode.OK, $"{(int)png.StatusCode}: {await png.Content.ReadAsStringAsync()}");
        Assert.Equal(TestImages.Png, await png.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.Equal(PreviewImages.ContentSecurityPolicy, png.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", png.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-store", png.Headers.CacheControl?.ToString());
        Assert.Equal("inline", png.Content.Headers.ContentDisposition?.DispositionType);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-2")]
    public async Task The_requester_gets_no_preview_the_handler_gives_them_the_apis_refusal_and_an_export_is_no_import()
    {
        var project = _w.ProjectId;
        var request = await ImportAsync();
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var checker = new PortalBrowser(_w.F.Server);
        using var __ = await checker.SignInAsync("checker2");

        using var page = await researcher.GetAsync($"/review/imports/{project}/{request}");
        var html = await page.Content.ReadAsStringAsync();
        using var relayed = await researcher.GetAsync($"/review/imports/{project}/{request}?handler=Image&file=figure.png");
        var relayedBody = await relayed.Content.ReadAsByteArrayAsync();
        // An independent checker, but an export's id on the import page: the API's 404, as for a file that does not exist.
        await _w.RunAsync("printf 'group,count\\na,12\\n' > /outputs/table.csv");
        var export = await _w.RequestOkAsync("table.csv");
        using var crossed = await checker.GetAsync($"/review/imports/{project}/{export.Id}?handler=Image&file=table.csv");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"previews-withheld\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Type 2 diabetes", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, relayed.StatusCode);
        Assert.Equal("text/html", relayed.Content.Headers.ContentType?.MediaType);
        Assert.False(relayedBody.AsSpan().IndexOf(TestImages.Png) >= 0, "the requester got the image's bytes");
        Assert.Equal(HttpStatusCode.NotFound, crossed.StatusCode);
        Assert.Equal("text/html", crossed.Content.Headers.ContentType?.MediaType);
    }
}
