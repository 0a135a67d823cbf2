using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Image previews of an export request (EHDSR-13): files written by a real sandbox job, frozen at submission, shown whole
/// to the independent output checkers only, as PNG, JPEG, GIF or WebP whose first bytes match the name, with headers that
/// let a browser do nothing but draw them; never to the requester or anyone else, never SVG, never past the size cap.
/// </summary>
public sealed class ExportImagePreviewTests : IAsyncLifetime
{
    private static readonly string[] ExportTypes = ["csv", "txt", "png", "jpg", "jpeg", "gif", "webp", "svg"];

    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(exportTypes: ExportTypes);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private async Task<AirlockRequestView> SubmitAsync(params (string Name, byte[] Bytes)[] files)
    {
        await _w.RunAsync(string.Join(" && ", files.Select(f => TestImages.Write(f.Name, f.Bytes))));
        return await _w.RequestOkAsync(files.Select(f => f.Name).ToArray());
    }

    private string ImagePath(string requestId, string name) => $"{_w.Exports}/{requestId}/files/{Uri.EscapeDataString(name)}/image";

    private async Task<HttpResponseMessage> ImageAsync(string account, string requestId, string name)
    {
        using var client = await _w.F.Server.ClientForAccountAsync(account);
        return await client.GetAsync(ImagePath(requestId, name));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task Checkers_see_a_png_jpeg_gif_and_webp_whole_with_their_type_and_headers_that_allow_nothing_else_and_each_view_is_audited()
    {
        var files = new (string Name, byte[] Bytes, string Type)[]
        {
            ("figure.png", TestImages.Png, "image/png"), ("photo.jpg", TestImages.Jpeg, "image/jpeg"), ("photo2.jpeg", TestImages.Jpeg, "image/jpeg"),
            ("anim.gif", TestImages.Gif, "image/gif"), ("plot.webp", TestImages.Webp, "image/webp"),
        };
        var request = await SubmitAsync([.. files.Select(f => (f.Name, f.Bytes))]);

        var answers = new List<(string Name, byte[] Bytes, string Type, HttpResponseMessage Response)>();
        foreach (var checker in new[] { "checker", "checker2" })
        {
            foreach (var (name, bytes, type) in files)
            {
                answers.Add((name, bytes, type, await ImageAsync(checker, request.Id, name)));
            }
        }

        foreach (var (name, bytes, type, response) in answers)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(type, response.Content.Headers.ContentType?.ToString());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal(PreviewImages.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Contains("sandbox", PreviewImages.ContentSecurityPolicy, StringComparison.Ordinal);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Equal("inline", response.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal(name, response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        }

        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        var previewed = records.Where(r => r.Action == "export.previewed" && r.ResourceId == request.Id).ToList();
        Assert.Equal(answers.Count, previewed.Count);
        var details = previewed.Select(r => System.Text.Json.JsonDocument.Parse(r.DetailsJson).RootElement)
            .Select(d => (File: d.GetProperty("file").GetString(), Sha256: d.GetProperty("sha256").GetString(), Kind: d.GetProperty("kind").GetString())).ToList();
        Assert.All(files, f => Assert.Equal(2, details.Count(d => d == (f.Name, TusClient.Sha256Hex(f.Bytes), "image"))));
        Assert.Equal(["checker", "checker2"], previewed.Select(r => r.ActorUsername).Distinct().Order());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-20")]
    public async Task Nobody_but_an_independent_checker_gets_an_image_not_the_requester_a_member_a_stranger_a_disabled_checker_or_anyone_while_halted()
    {
        var request = await SubmitAsync(("figure.png", TestImages.Png));
        await _w.F.Server.EnsureAccountAsync("checker-leaver", "output-checker");
        using var leaver = await _w.F.Server.ClientForAccountAsync("checker-leaver");
        using var leaverBefore = await leaver.GetAsync(ImagePath(request.Id, "figure.png"));
        using var stranger = await _w.F.Server.ClientAsAsync("stranger", "researcher");

        using var requester = await _w.Researcher.GetAsync(ImagePath(request.Id, "figure.png"));
        // researcher3 is named in the permit and also holds the output-checker role: a member, so never a reviewer.
        using var memberChecker = await ImageAsync("researcher3", request.Id, "figure.png");
        using var member = await ImageAsync("researcher2", request.Id, "figure.png");
        using var holder = await ImageAsync("holder", request.Id, "figure.png");
        using var hdab = await ImageAsync("hdab", request.Id, "figure.png");
        using var strangerAnswer = await stranger.GetAsync(ImagePath(request.Id, "figure.png"));
        using var anonymous = await _w.F.Server.Client.GetAsync(ImagePath(request.Id, "figure.png"));
        using var noSuchFile = await ImageAsync("checker", request.Id, "other.png");
        Assert.Equal(HttpStatusCode.OK, (await _w.F.PostAsAsync("admin", "/api/v1/admin/users/checker-leaver/disable", new { })).StatusCode);
        using var leaverAfter = await leaver.GetAsync(ImagePath(request.Id, "figure.png"));
        using var checkerBeforeHalt = await ImageAsync("checker", request.Id, "figure.png");
        Assert.Equal(HttpStatusCode.Created, (await _w.F.PostAsAsync("operator", "/api/v1/halts", new { projectId = _w.ProjectId, reason = "incident" })).StatusCode);
        using var halted = await ImageAsync("checker", request.Id, "figure.png");

        Assert.Equal(HttpStatusCode.OK, leaverBefore.StatusCode);
        Assert.Equal(HttpStatusCode.OK, checkerBeforeHalt.StatusCode);
        await ProblemAssert.IsProblemAsync(requester, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(memberChecker, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(member, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(holder, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(hdab, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(strangerAnswer, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await ProblemAssert.IsProblemAsync(noSuchFile, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Unauthorized, leaverAfter.StatusCode);
        await ProblemAssert.IsProblemAsync(halted, HttpStatusCode.Locked);
        foreach (var refused in new[] { requester, memberChecker, member, holder, hdab, strangerAnswer, anonymous, leaverAfter, halted })
        {
            Assert.DoesNotContain(refused.Content.Headers.ContentType?.MediaType ?? "", PreviewImages.ContentTypes);
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task Only_an_image_whose_first_bytes_are_the_format_its_name_says_is_shown_never_svg_text_or_another_format()
    {
        var request = await SubmitAsync(("text.png", Encoding.UTF8.GetBytes("group,count\na,12\n")), ("swapped.jpg", TestImages.Png), ("drawing.svg", TestImages.Svg),
            ("table.csv", Encoding.UTF8.GetBytes("group,count\na,12\n")), ("notes.txt", TestImages.Svg));

        var answers = new Dictionary<string, HttpResponseMessage>(StringComparer.Ordinal);
        foreach (var name in new[] { "text.png", "swapped.jpg", "drawing.svg", "table.csv", "notes.txt" })
        {
            answers[name] = await ImageAsync("checker", request.Id, name);
        }

        foreach (var (name, response) in answers)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
            Assert.Equal(ErrorCodes.PortalPreviewNotImage, problem.GetProperty("code").GetString());
            Assert.Contains("read the automatic report", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("<svg", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Contains("does not hold the image/jpeg", (await answers["swapped.jpg"].Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task An_image_up_to_the_cap_is_shown_and_one_byte_more_is_refused_with_what_to_do_instead()
    {
        var edge = PreviewImages.MaxBytes - TestImages.Png.Length;
        await _w.RunAsync($"{TestImages.Write("edge.png", TestImages.Png)} && head -c {edge} /dev/zero >> /outputs/edge.png"
            + $" && {TestImages.Write("big.png", TestImages.Png)} && head -c {edge + 1} /dev/zero >> /outputs/big.png");
        var request = await _w.RequestOkAsync("edge.png", "big.png");

        using var atCap = await ImageAsync("checker", request.Id, "edge.png");
        using var over = await ImageAsync("checker", request.Id, "big.png");

        Assert.Equal(HttpStatusCode.OK, atCap.StatusCode);
        Assert.Equal(PreviewImages.MaxBytes, (await atCap.Content.ReadAsByteArrayAsync()).Length);
        var problem = await ProblemAssert.IsProblemAsync(over, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(ErrorCodes.PortalPreviewTooLarge, problem.GetProperty("code").GetString());
        Assert.Contains("read the automatic report", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("figure.png", "image")]
    [InlineData("table.csv", "preview")]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-3")]
    public async Task A_frozen_copy_changed_at_rest_has_no_preview(string name, string route)
    {
        var request = await SubmitAsync((name, name.EndsWith(".png", StringComparison.Ordinal) ? TestImages.Png : Encoding.UTF8.GetBytes("group,count\na,12\n")));
        // Someone with access to the object store swaps the file for another of the same kind, validly encrypted to the project key.
        var key = await new TusClient(_w.Researcher, _w.ProjectId).ProjectKeyAsync();
        var other = name.EndsWith(".png", StringComparison.Ordinal) ? [.. TestImages.Png, 0] : Encoding.UTF8.GetBytes("group,count\na,1\n");
        await _w.F.Server.Services.GetRequiredService<IObjectStore>().PutAsync(FrozenFiles.KeyFor(_w.ProjectId, request.Id, 0),
            new MemoryStream(TusClient.Encrypt(other, key)), TestContext.Current.CancellationToken);

        using var client = await _w.F.Server.ClientForAccountAsync("checker");
        using var answer = await client.GetAsync($"{_w.Exports}/{request.Id}/files/{name}/{route}");

        var problem = await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.InternalServerError);
        Assert.Equal(ErrorCodes.AirlockIntegrity, problem.GetProperty("code").GetString());
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "export.integrity-failed" && r.ResourceId == request.Id);
        Assert.DoesNotContain(records, r => r.Action == "export.previewed" && r.ResourceId == request.Id);
    }
}
