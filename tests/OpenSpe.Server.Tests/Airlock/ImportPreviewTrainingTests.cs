using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Operations;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// The previews' training gate (OPR-23) with <c>Training:Required</c> on: the routes are project-scoped, so the access chain's
/// training step judges the checker as output checker, for an import's preview as for an export's; no filter of their own.
/// </summary>
public sealed class ImportPreviewTrainingTests : IAsyncLifetime
{
    private const string Table = "code,label\nE11,Type 2 diabetes\n";

    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(new Dictionary<string, string?> { ["Training:Required"] = "true" });

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-23")]
    [Trait("Requirement", "SPER-3")]
    public async Task A_checker_without_output_checker_training_is_refused_the_preview_until_it_is_recorded()
    {
        Assert.Equal(HttpStatusCode.Created, (await TrainingApi.RecordAsync(_w.F, "hdab", "researcher", "researcher", "2026-11-01")).StatusCode);
        using var researcher = await _w.F.Server.ClientForAccountAsync("researcher");
        using var form = new MultipartFormDataContent { { new StringContent("reference data"), "reason" } };
        var part = new ByteArrayContent(Encoding.UTF8.GetBytes(Table));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "files", "labels.csv");
        using var created = await researcher.PostAsync($"/api/v1/projects/{_w.ProjectId}/imports", form);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var path = $"/api/v1/projects/{_w.ProjectId}/imports/{id}/files/labels.csv/preview";

        using var untrained = await _w.F.Server.ClientForAccountAsync("checker");
        using var before = await untrained.GetAsync(path);
        // Training in another role does not count: the checker acts as output checker.
        Assert.Equal(HttpStatusCode.Created, (await TrainingApi.RecordAsync(_w.F, "hdab", "checker", "researcher", "2026-11-01")).StatusCode);
        using var otherRole = await untrained.GetAsync(path);
        Assert.Equal(HttpStatusCode.Created, (await TrainingApi.RecordAsync(_w.F, "admin", "checker", "output-checker", "2026-11-01")).StatusCode);
        using var trained = await _w.F.Server.ClientForAccountAsync("checker");
        using var after = await trained.GetAsync(path);

        foreach (var refused in new[] { before, otherRole })
        {
            var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Forbidden);
            Assert.Equal("SPE8200", problem.GetProperty("code").GetString());
            Assert.Contains("output-checker", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.True(after.StatusCode == HttpStatusCode.OK, await after.Content.ReadAsStringAsync());
        Assert.Equal(Table, await after.Content.ReadAsStringAsync());
    }
}
