using System.Net;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Tests.Airlock;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The output checker's review page shows an export's images inline (EHDSR-13, TIR-25): an <c>img</c> named for its file,
/// served by the page's handler, which relays the API's image preview with its strict headers; text and CSV previews beside
/// it keep working; the requester's pages never carry an image, and the handler gives them the API's refusal.
/// </summary>
public sealed class PortalImagePreviewTests : IAsyncLifetime
{
    private const string Table = "group,count\na,12\nb,15\n";

    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(exportTypes: ["csv", "png", "jpg"]);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "TIR-25")]
    public async Task The_checker_sees_each_image_inline_from_the_pages_handler_beside_the_table_and_a_too_large_image_says_why()
    {
        var project = _w.ProjectId;
        await _w.RunAsync($"printf '{Table.Replace("\n", "\\n", StringComparison.Ordinal)}' > /outputs/table.csv && {TestImages.Write("figure.png", TestImages.Png)}"
            + $" && {TestImages.Write("photo.jpg", TestImages.Jpeg)} && {TestImages.Write("big.png", TestImages.Png)} && head -c {PreviewImages.MaxBytes} /dev/zero >> /outputs/big.png");
        var request = await _w.RequestOkAsync("table.csv", "figure.png", "photo.jpg", "big.png");
        using var checker = new PortalBrowser(_w.F.Server);
        using var _ = await checker.SignInAsync("checker");

        using var page = await checker.GetAsync($"/review/{project}/{request.Id}");
        var html = await page.Content.ReadAsStringAsync();
        using var png = await checker.GetAsync($"/review/{project}/{request.Id}?handler=Image&file=figure.png");
        using var jpeg = await checker.GetAsync($"/review/{project}/{request.Id}?handler=Image&file=photo.jpg");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains($"<img src=\"/review/{project}/{request.Id}?handler=Image&amp;file=figure.png\" alt=\"The image figure.png, as submitted for export\">", html, StringComparison.Ordinal);
        Assert.Contains($"<img src=\"/review/{project}/{request.Id}?handler=Image&amp;file=photo.jpg\" alt=\"The image photo.jpg, as submitted for export\">", html, StringComparison.Ordinal);
        Assert.Contains("<th scope=\"col\">group</th>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("file=big.png\"", html, StringComparison.Ordinal);
        Assert.Contains("big.png is larger than the 4 MiB an image preview shows", html, StringComparison.Ordinal);
        foreach (var (response, bytes, type) in new[] { (png, TestImages.Png, "image/png"), (jpeg, TestImages.Jpeg, "image/jpeg") })
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(PreviewImages.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Equal("inline", response.Content.Headers.ContentDisposition?.DispositionType);
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-2")]
    public async Task The_requester_gets_no_image_from_the_review_handler_and_their_own_pages_carry_none()
    {
        var project = _w.ProjectId;
        await _w.RunAsync(TestImages.Write("figure.png", TestImages.Png));
        var request = await _w.RequestOkAsync("figure.png");
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var stranger = new PortalBrowser(_w.F.Server);
        await _w.F.Server.EnsureAccountAsync("portal-stranger", "researcher");
        using var __ = await stranger.SignInAsync("portal-stranger");

        using var relayed = await researcher.GetAsync($"/review/{project}/{request.Id}?handler=Image&file=figure.png");
        var relayedBody = await relayed.Content.ReadAsByteArrayAsync();
        using var exportPage = await researcher.GetAsync($"/projects/{project}/exports/{request.Id}");
        var exportHtml = await exportPage.Content.ReadAsStringAsync();
        using var strangerRelayed = await stranger.GetAsync($"/review/{project}/{request.Id}?handler=Image&file=figure.png");

        Assert.Equal(HttpStatusCode.Forbidden, relayed.StatusCode);
        Assert.Equal("text/html", relayed.Content.Headers.ContentType?.MediaType);
        Assert.False(relayedBody.AsSpan().IndexOf(TestImages.Png) >= 0, "the requester got the image's bytes");
        Assert.Equal(HttpStatusCode.OK, exportPage.StatusCode);
        Assert.Contains("figure.png", exportHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", exportHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=Image", exportHtml, StringComparison.Ordinal);
        // A researcher of no role in the project: the API's 404, as for a project that does not exist.
        Assert.Equal(HttpStatusCode.NotFound, strangerRelayed.StatusCode);
        Assert.Equal("text/html", strangerRelayed.Content.Headers.ContentType?.MediaType);
    }
}
