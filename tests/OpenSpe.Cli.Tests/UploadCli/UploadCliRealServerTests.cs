using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Transfers;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary><c>spe upload</c> against the real server (HTTPS on loopback, pinned): the concatenation path end to end.</summary>
public sealed class UploadCliRealServerTests
{
    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "SDR-3")]
    public async Task Spe_upload_sends_while_it_encrypts_and_the_server_proves_the_file_while_it_arrives()
    {
        await using var f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Uploads:MaxUploadBytes"] = "100000000" });
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        var (_, projectId) = await f.IssueAsync(document);
        await using var harness = UploadHarness.ForServer(f.Server, await f.Server.TokenForAccountAsync("holder"));
        var content = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 200_000).Select(i => $"{i},person-{i % 997},{i * 31 % 10_000}")));
        var path = harness.WriteFile("cohort.csv", content);

        var (code, stdout, stderr) = await harness.RunAsync("upload", "--project", projectId, "--dataset", "omop-2026", path, "--chunk-size", "1", "--json");

        Assert.True(code == 0, stderr);
        var result = Assert.Single(JsonDocument.Parse(stdout).RootElement.GetProperty("files").EnumerateArray());
        using var holder = await f.Server.ClientForAccountAsync("holder");
        var file = Assert.Single((await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{projectId}/files")).EnumerateArray());
        Assert.Equal(result.GetProperty("id").GetString(), file.GetProperty("id").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), file.GetProperty("plaintextSha256").GetString());
        Assert.Equal(content.Length, file.GetProperty("plaintextSize").GetInt64());
        Assert.Equal(1, f.Server.Services.GetRequiredService<IngestSessions>().ProvedWhileArriving);
        await using var scope = f.Server.Services.CreateAsyncScope();
        Assert.Empty(scope.ServiceProvider.GetRequiredService<SpeDbContext>().Uploads.ToList());
        Assert.Empty(harness.StateFiles());
        Assert.Empty(harness.StagedFiles());
    }

    [Fact]
    public async Task Spe_dataset_list_of_a_project_without_files_says_so_and_json_is_an_empty_array()
    {
        await using var f = await PermitFixture.StartAsync();
        var (_, projectId) = await f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));
        await using var harness = UploadHarness.ForServer(f.Server, await f.Server.TokenForAccountAsync("holder"));

        var (code, stdout, stderr) = await harness.RunAsync("dataset", "list", "--project", projectId);
        var (jsonCode, json, _) = await harness.RunAsync("dataset", "list", "--project", projectId, "--json");
        var (oneCode, one, _) = await harness.RunAsync("dataset", "list", "--project", projectId, "--dataset", "omop-2026");

        Assert.Equal((0, 0, 0), (code, jsonCode, oneCode));
        Assert.Equal(("No verified files in this project that you can see.\n", ""), (stdout, stderr));
        Assert.Equal("[]", json.Trim());
        Assert.Equal("No verified files in dataset omop-2026 that you can see.\n", one);
    }
}
