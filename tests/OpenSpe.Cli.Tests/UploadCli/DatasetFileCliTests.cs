using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Vault;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// A dataset never holds two files of one name: a second upload of a name is refused (409, the existing file named), and the
/// dataset's holder deletes a file (<c>spe dataset rm</c>, <c>DELETE …/datasets/{datasetId}/files/{fileId}</c>) — its stored
/// object with it, audited — and nobody else can.
/// </summary>
public sealed class DatasetFileCliTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 3000).Select(i => $"{i},patient-{i % 97}")));

    private PermitFixture _f = null!;
    private string _projectId = "";
    private string _appSecret = "";
    private UploadHarness _holder = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        await _f.Server.EnsureAccountAsync("holder2", "data-holder");
        using (var admin = await _f.Server.ClientForAccountAsync("admin"))
        {
            _appSecret = (await (await admin.PostAsJsonAsync("/api/v1/admin/clients", new { clientId = "cohort-pipeline" })).Content.ReadFromJsonAsync<JsonElement>())
                .GetProperty("clientSecret").GetString()!;
        }

        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["datasets"] = new[]
        {
            new { id = "omop-2026", title = "OMOP CDM extract", holder = "holder" },
            new { id = "registry-2026", title = "Registry extract", holder = "holder2" },
        };
        document["dataUsers"] = new object[] { new { account = "researcher" }, new { application = "cohort-pipeline" } };
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_, _projectId) = await _f.IssueAsync(document);
        _holder = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("holder"));
    }

    public async ValueTask DisposeAsync()
    {
        await _holder.DisposeAsync();
        await _f.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    public async Task A_second_upload_of_a_name_is_refused_naming_the_existing_file_and_nothing_is_added()
    {
        var path = _holder.WriteFile("cohort.csv", Csv);
        var first = await _holder.RunAsync("upload", "--project", _projectId, "--dataset", "omop-2026", path, "--json");
        var id = JsonDocument.Parse(first.Stdout).RootElement.GetProperty("files")[0].GetProperty("id").GetString()!;

        var (code, _, stderr) = await _holder.RunAsync("upload", "--project", _projectId, "--dataset", "omop-2026", path);

        Assert.Equal(0, first.Code);
        Assert.Equal(1, code);
        Assert.Contains($"Dataset omop-2026 already holds a file named 'cohort.csv' ({id})", stderr, StringComparison.Ordinal);
        Assert.Contains("(SPE5109, trace ", stderr, StringComparison.Ordinal);
        Assert.Single(await FilesAsync());
        Assert.Empty(_holder.StagedFiles());
        Assert.Empty(_holder.StateFiles());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    public async Task The_holder_deletes_a_file_by_name_its_object_is_gone_it_is_audited_and_the_name_can_be_uploaded_again()
    {
        var path = _holder.WriteFile("cohort.csv", Csv);
        Assert.Equal(0, (await _holder.RunAsync("upload", "--project", _projectId, "--dataset", "omop-2026", path)).Code);
        var stored = await StoredAsync();

        var (code, stdout, stderr) = await _holder.RunAsync("dataset", "rm", _projectId, "omop-2026", "cohort.csv");
        var again = await _holder.RunAsync("upload", "--project", _projectId, "--dataset", "omop-2026", path);

        Assert.True(code == 0, stderr);
        Assert.Equal($"Deleted cohort.csv ({stored.Id}) from dataset omop-2026.\n", stdout);
        Assert.False(await _f.Server.Services.GetRequiredService<IObjectStore>().ExistsAsync(stored.ObjectKey, TestContext.Current.CancellationToken));
        var rows = await RowsAsync();
        var deleted = Assert.Single(rows, r => r.Action == "dataset.file.deleted");
        Assert.Equal(("holder", stored.Id, _projectId), (deleted.ActorUsername, deleted.ResourceId, deleted.ProjectId));
        Assert.Contains("\"filename\":\"cohort.csv\"", deleted.DetailsJson, StringComparison.Ordinal);
        Assert.True(again.Code == 0, again.Stderr);
        Assert.NotEqual(stored.Id, Assert.Single(await FilesAsync()).GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("holder2", HttpStatusCode.Forbidden)]
    [InlineData("researcher", HttpStatusCode.Forbidden)]
    [InlineData("operator", HttpStatusCode.NotFound)]
    [InlineData("hdab", HttpStatusCode.NotFound)]
    [InlineData("admin", HttpStatusCode.NotFound)]
    [InlineData("application", HttpStatusCode.Forbidden)]
    public async Task Nobody_but_the_datasets_holder_deletes_its_file_non_members_do_not_even_see_the_project(string who, HttpStatusCode expected)
    {
        var stored = await UploadAsync();
        using var client = who == "application"
            ? _f.Server.ClientWithToken(await IdentityClient.ClientCredentialsAsync(_f.Server, "cohort-pipeline", _appSecret))
            : await _f.Server.ClientForAccountAsync(who);

        using var response = await client.DeleteAsync($"/api/v1/projects/{_projectId}/datasets/omop-2026/files/{stored.Id}", TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Single(await FilesAsync());
        Assert.True(await _f.Server.Services.GetRequiredService<IObjectStore>().ExistsAsync(stored.ObjectKey, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_halted_project_an_expired_permit_another_dataset_and_an_unknown_file_delete_nothing()
    {
        var stored = await UploadAsync();
        using var holder = await _f.Server.ClientForAccountAsync("holder");
        var path = $"/api/v1/projects/{_projectId}/datasets/omop-2026/files/{stored.Id}";

        var wrongDataset = await holder.DeleteAsync($"/api/v1/projects/{_projectId}/datasets/registry-2026/files/{stored.Id}", TestContext.Current.CancellationToken);
        var unknown = await holder.DeleteAsync($"/api/v1/projects/{_projectId}/datasets/omop-2026/files/f-nope", TestContext.Current.CancellationToken);
        using (var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "suspected exfiltration" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        var halted = await holder.DeleteAsync(path, TestContext.Current.CancellationToken);
        var (haltedCode, _, haltedErr) = await _holder.RunAsync("dataset", "rm", _projectId, "omop-2026", stored.Id);
        (await _f.PostAsAsync("hdab", "/api/v1/halts/resume", new { projectId = _projectId })).Dispose();
        _f.Clock.Advance(TimeSpan.FromDays(31));
        using var holderLater = await _f.Server.ClientForAccountAsync("holder");
        var expired = await holderLater.DeleteAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, wrongDataset.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, halted.StatusCode);
        Assert.Equal(1, haltedCode);
        Assert.Contains("(SPE3001", haltedErr, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.True(await _f.Server.Services.GetRequiredService<IObjectStore>().ExistsAsync(stored.ObjectKey, TestContext.Current.CancellationToken));
        Assert.DoesNotContain(await RowsAsync(), r => r.Action == "dataset.file.deleted");
    }

    [Fact]
    public async Task Spe_dataset_rm_of_a_name_the_dataset_does_not_hold_exits_1_and_sends_no_delete()
    {
        await UploadAsync();

        var (code, stdout, stderr) = await _holder.RunAsync("dataset", "rm", _projectId, "omop-2026", "other.csv");

        Assert.Equal((1, ""), (code, stdout));
        Assert.Contains("holds no file 'other.csv'", stderr, StringComparison.Ordinal);
        Assert.Single(await FilesAsync());
    }

    private async Task<ProjectFileEntityView> UploadAsync()
    {
        var path = _holder.WriteFile("cohort.csv", Csv);
        var (code, _, stderr) = await _holder.RunAsync("upload", "--project", _projectId, "--dataset", "omop-2026", path);
        Assert.True(code == 0, stderr);
        return await StoredAsync();
    }

    private async Task<ProjectFileEntityView> StoredAsync()
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var file = scope.ServiceProvider.GetRequiredService<SpeDbContext>().ProjectFiles.Single();
        return new ProjectFileEntityView(file.Id, file.ObjectKey);
    }

    private async Task<List<JsonElement>> FilesAsync()
    {
        using var holder = await _f.Server.ClientForAccountAsync("holder");
        return (await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files")).EnumerateArray().ToList();
    }

    private async Task<List<OpenSpe.Core.Audit.AuditRow>> RowsAsync()
    {
        await using var connection = await _f.Server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }

    private sealed record ProjectFileEntityView(string Id, string ObjectKey);
}
