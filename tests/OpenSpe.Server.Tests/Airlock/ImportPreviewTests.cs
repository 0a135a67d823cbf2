using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Previews of an import request's files (SPER-3, EHDSR-13): the independent output checkers who decide on an import read the
/// start of a text file or a whole image, decrypted from the frozen copy with its SHA-256 checked, exactly as for an export;
/// never the requester, another member, a holder, an oversight role or a stranger; never during a halt; never a file of an
/// export request through the import route (or the reverse); never a copy changed at rest.
/// </summary>
public sealed class ImportPreviewTests : IAsyncLifetime
{
    private const string Table = "code,label\nE11,Type 2 diabetes\nI10,Hypertension\n";
    private const string Script = "print('cohort helper v1')\n";

    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(importTypes: ["py", "csv", "png"]);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private string Imports => $"/api/v1/projects/{_w.ProjectId}/imports";

    private string FilePath(string requestId, string name, string route) => $"{Imports}/{requestId}/files/{Uri.EscapeDataString(name)}/{route}";

    private async Task<AirlockRequestView> ImportOkAsync(HttpClient client, params (string Name, byte[] Bytes)[] files)
    {
        using var form = new MultipartFormDataContent { { new StringContent("reference data and a helper for the analysis"), "reason" } };
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }

        using var response = await client.PostAsync(Imports, form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonSerializer.Deserialize<AirlockRequestView>(body, JsonSerializerOptions.Web)!;
    }

    private async Task<HttpResponseMessage> GetAsAsync(string account, string path)
    {
        using var client = await _w.F.Server.ClientForAccountAsync(account);
        return await client.GetAsync(path);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task An_independent_checker_reads_a_csv_and_sees_a_png_of_an_import_and_each_view_is_audited()
    {
        var request = await ImportOkAsync(_w.Researcher, ("labels.csv", Encoding.UTF8.GetBytes(Table)), ("figure.png", TestImages.Png),
            ("helper.py", Encoding.UTF8.GetBytes(Script)));

        using var text = await GetAsAsync("checker", FilePath(request.Id, "labels.csv", "preview"));
        using var image = await GetAsAsync("checker", FilePath(request.Id, "figure.png", "image"));
        using var script = await GetAsAsync("checker", FilePath(request.Id, "helper.py", "preview"));
        using var csvAsImage = await GetAsAsync("checker", FilePath(request.Id, "labels.csv", "image"));

        Assert.True(text.StatusCode == HttpStatusCode.OK, await text.Content.ReadAsStringAsync());
        Assert.Equal(Table, await text.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", text.Content.Headers.ContentType?.MediaType);
        Assert.True(image.StatusCode == HttpStatusCode.OK, await image.Content.ReadAsStringAsync());
        Assert.Equal(TestImages.Png, await image.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", image.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(PreviewImages.ContentSecurityPolicy, image.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-store", image.Headers.CacheControl?.ToString());
        Assert.Equal("inline", image.Content.Headers.ContentDisposition?.DispositionType);
        // The same checks as for an export: a .py is not one of the text types a preview shows, a CSV is not an image.
        Assert.Equal(ErrorCodes.PortalPreviewNotText, (await ProblemAssert.IsProblemAsync(script, HttpStatusCode.UnsupportedMediaType)).GetProperty("code").GetString());
        Assert.Equal(ErrorCodes.PortalPreviewNotImage, (await ProblemAssert.IsProblemAsync(csvAsImage, HttpStatusCode.UnsupportedMediaType)).GetProperty("code").GetString());
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        var previewed = records.Where(r => r.Action == "import.previewed" && r.ResourceId == request.Id).ToList();
        var details = previewed.Select(r => JsonDocument.Parse(r.DetailsJson).RootElement)
            .Select(d => (File: d.GetProperty("file").GetString()!, Sha256: d.GetProperty("sha256").GetString()!, Kind: d.GetProperty("kind").GetString()!)).Order().ToList();
        Assert.Equal([("figure.png", TusClient.Sha256Hex(TestImages.Png), "image"), ("labels.csv", TusClient.Sha256Hex(Encoding.UTF8.GetBytes(Table)), "text")], details);
        Assert.All(previewed, r => Assert.Equal(("checker", "import"), (r.ActorUsername, r.ResourceType)));
        Assert.DoesNotContain(records, r => r.Action == "export.previewed");
    }

    [Theory]
    [InlineData("preview", "labels.csv")]
    [InlineData("image", "figure.png")]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-20")]
    public async Task Nobody_but_an_independent_checker_previews_an_import_with_the_access_tables_status_and_nobody_while_halted(string route, string name)
    {
        using var holderClient = await _w.F.Server.ClientForAccountAsync("holder");
        var request = await ImportOkAsync(holderClient, ("labels.csv", Encoding.UTF8.GetBytes(Table)), ("figure.png", TestImages.Png));
        var path = FilePath(request.Id, name, route);
        using var stranger = await _w.F.Server.ClientAsAsync("stranger", "researcher");

        // The requester is the data holder; researcher and researcher2 are the permit's researchers; researcher3 is one of them
        // who also holds the output-checker role (a member, so never a reviewer).
        using var requester = await holderClient.GetAsync(path);
        using var member = await _w.Researcher.GetAsync(path);
        using var member2 = await GetAsAsync("researcher2", path);
        using var memberChecker = await GetAsAsync("researcher3", path);
        using var hdab = await GetAsAsync("hdab", path);
        using var operatorAnswer = await GetAsAsync("operator", path);
        using var auditor = await GetAsAsync("auditor", path);
        using var strangerAnswer = await stranger.GetAsync(path);
        using var anonymous = await _w.F.Server.Client.GetAsync(path);
        using var checkerBeforeHalt = await GetAsAsync("checker2", path);
        Assert.Equal(HttpStatusCode.Created, (await _w.F.PostAsAsync("operator", "/api/v1/halts", new { projectId = _w.ProjectId, reason = "incident" })).StatusCode);
        using var halted = await GetAsAsync("checker", path);

        Assert.True(checkerBeforeHalt.StatusCode == HttpStatusCode.OK, await checkerBeforeHalt.Content.ReadAsStringAsync());
        // docs/separation-of-duties.md's row: members (researchers, holders) 403; oversight roles and strangers 404 as for a
        // project that does not exist; no token 401; a halted project 423.
        foreach (var refused in new[] { requester, member, member2, memberChecker })
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Forbidden);
        }

        foreach (var hidden in new[] { hdab, operatorAnswer, auditor, strangerAnswer })
        {
            await ProblemAssert.IsProblemAsync(hidden, HttpStatusCode.NotFound);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await ProblemAssert.IsProblemAsync(halted, HttpStatusCode.Locked);
        foreach (var refused in new[] { requester, member, member2, memberChecker, hdab, operatorAnswer, auditor, strangerAnswer, anonymous, halted })
        {
            var body = await refused.Content.ReadAsByteArrayAsync();
            Assert.DoesNotContain("E11,Type 2 diabetes", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
            Assert.False(body.AsSpan().IndexOf(TestImages.Png) >= 0, "a refusal carried the image's bytes");
        }

        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Equal(["checker2"], records.Where(r => r.Action == "import.previewed").Select(r => r.ActorUsername));
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task A_request_of_the_other_direction_is_a_missing_file_on_either_route()
    {
        await _w.RunAsync("printf 'group,count\\na,12\\n' > /outputs/table.csv");
        var export = await _w.RequestOkAsync("table.csv");
        var import = await ImportOkAsync(_w.Researcher, ("table.csv", Encoding.UTF8.GetBytes(Table)));

        using var exportOnImportRoute = await GetAsAsync("checker", FilePath(export.Id, "table.csv", "preview"));
        using var exportOnImportImage = await GetAsAsync("checker", FilePath(export.Id, "table.csv", "image"));
        using var importOnExportRoute = await GetAsAsync("checker", $"{_w.Exports}/{import.Id}/files/table.csv/preview");
        using var exportOnItsRoute = await GetAsAsync("checker", $"{_w.Exports}/{export.Id}/files/table.csv/preview");
        using var importOnItsRoute = await GetAsAsync("checker", FilePath(import.Id, "table.csv", "preview"));

        foreach (var crossed in new[] { exportOnImportRoute, exportOnImportImage, importOnExportRoute })
        {
            var problem = await ProblemAssert.IsProblemAsync(crossed, HttpStatusCode.NotFound);
            Assert.Equal(ErrorCodes.NotFound, problem.GetProperty("code").GetString());
        }

        Assert.Contains("Import request", (await exportOnImportRoute.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Contains("Export request", (await importOnExportRoute.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal("group,count\na,12\n", await exportOnItsRoute.Content.ReadAsStringAsync());
        Assert.Equal(Table, await importOnItsRoute.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("figure.png", "image")]
    [InlineData("labels.csv", "preview")]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "SDR-3")]
    public async Task A_frozen_copy_changed_at_rest_has_no_preview_and_is_audited(string name, string route)
    {
        var png = name.EndsWith(".png", StringComparison.Ordinal);
        var request = await ImportOkAsync(_w.Researcher, (name, png ? TestImages.Png : Encoding.UTF8.GetBytes(Table)));
        // Someone with access to the object store swaps the file for another of the same kind, validly encrypted to the project key.
        var key = await new TusClient(_w.Researcher, _w.ProjectId).ProjectKeyAsync();
        var other = png ? [.. TestImages.Png, 0] : Encoding.UTF8.GetBytes("code,label\nE11,changed\n");
        await _w.F.Server.Services.GetRequiredService<IObjectStore>().PutAsync(FrozenFiles.KeyFor(_w.ProjectId, request.Id, 0),
            new MemoryStream(TusClient.Encrypt(other, key)), TestContext.Current.CancellationToken);

        using var answer = await GetAsAsync("checker", FilePath(request.Id, name, route));

        var problem = await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.InternalServerError);
        Assert.Equal(ErrorCodes.AirlockIntegrity, problem.GetProperty("code").GetString());
        Assert.Contains($"The frozen copy of '{name}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("changed", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        var failed = Assert.Single(records, r => r.Action == "import.integrity-failed" && r.ResourceId == request.Id);
        Assert.Equal(("checker", "import"), (failed.ActorUsername, failed.ResourceType));
        Assert.DoesNotContain(records, r => r.Action == "import.previewed" && r.ResourceId == request.Id);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task A_malformed_name_is_a_client_error_and_never_a_file()
    {
        var request = await ImportOkAsync(_w.Researcher, ("labels.csv", Encoding.UTF8.GetBytes(Table)));
        var names = new[]
        {
            $"{Imports}/{request.Id}/files/..%2F..%2Fetc%2Fpasswd/preview",
            $"{Imports}/{request.Id}/files/..%2Flabels.csv/preview",
            $"{Imports}/{request.Id}/files/%2Fetc%2Fpasswd/image",
            $"{Imports}/{request.Id}/files/.labels.csv/preview",
            $"{Imports}/{request.Id}/files/{new string('a', 256)}.csv/preview",
            $"{Imports}/{request.Id}/files/{new string('a', 4_000)}.csv/preview",
            $"{Imports}/{request.Id}/files/{new string('a', 20_000)}.csv/preview",
            $"{Imports}/{request.Id}/files/labels.csv%00.png/image",
        };

        var failures = new List<string>();
        foreach (var path in names)
        {
            // Note: a client per path, so a stream the server resets cannot disturb the next request.
            using var client = await _w.F.Server.ClientForAccountAsync("checker");
            HttpResponseMessage answer;
            try
            {
                answer = await client.GetAsync(path);
            }
            catch (HttpRequestException e) when (path.Length > 16 * 1024 || path.Contains("%00", StringComparison.Ordinal))
            {
                // Kestrel resets the HTTP/2 stream of a path over its 16 KiB header field limit, or one holding a NUL, before
                // any endpoint runs: refused, nothing served.
                TestContext.Current.SendDiagnosticMessage($"{path[..Math.Min(path.Length, 80)]}… ({path.Length} characters): refused by the server's transport ({e.HttpRequestError})");
                continue;
            }

            using var _ = answer;
            var body = await answer.Content.ReadAsStringAsync();
            if ((int)answer.StatusCode is < 400 or >= 500 || body.Contains("E11", StringComparison.Ordinal) || body.Contains("root:", StringComparison.Ordinal))
            {
                failures.Add($"{path[..Math.Min(path.Length, 120)]}: {(int)answer.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.DoesNotContain(records, r => r.Action is "import.previewed" or "import.integrity-failed");
    }
}
