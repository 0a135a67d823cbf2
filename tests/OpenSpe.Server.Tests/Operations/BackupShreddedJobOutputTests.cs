using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Contracts;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// A project's job output in backups (SDR-2, OPR-21, EHDSR-8): it is encrypted to the project's key inside the backup, so
/// the backup key alone does not read it; a restore of a backup made before the project was erased brings none of it back
/// (not a byte in the restored directory), and a server on that restore answers 404 for the job and its log.
/// </summary>
public sealed class BackupShreddedJobOutputTests : IAsyncLifetime
{
    private readonly UnisolatedTestRuntime _runtime = new();
    private readonly TempDirectory _work = new();
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() =>
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Backup:ShredLedgerPath"] = _work.File("outside/shred-ledger.jsonl") }, TestBackend.Sqlite, services =>
        {
            services.AddSingleton<IWorkspaceRuntime>(_runtime);
            services.AddSingleton<IPlaintextStaging>(_runtime);
        });

    public async ValueTask DisposeAsync()
    {
        await _f.DisposeAsync();
        _runtime.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "EHDSR-8")]
    public async Task Job_output_is_sealed_to_the_project_key_in_a_backup_and_never_comes_back_for_an_erased_project()
    {
        // The command prints the reverse of what it names, so the output's bytes are nowhere but in the output (the command
        // itself is in the job row and the audit log, which a restore keeps).
        var seed = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var secretOutput = new string([.. seed.Reverse()]);
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(10));
        document["policies"] = new { workspaceKinds = new[] { "job" } };
        var (permitId, projectId) = await _f.IssueAsync(document);
        string jobId;
        using (var researcher = await _f.Server.ClientForAccountAsync("researcher"))
        {
            jobId = await JobsApi.StartAsync(researcher, projectId, "sh", "-c", $"echo {seed} | rev");
            Assert.Contains(secretOutput, JobsApi.Text(await JobsApi.LogAsync(researcher, projectId, jobId), JobLogStreams.StandardOutput), StringComparison.Ordinal);
        }

        using var backupKey = Crypt4ghPrivateKey.Generate();
        var data = Path.Combine(_f.Server.DataDirectory, "data");
        var manifest = await BackupWriter.CreateAsync(new BackupSource(data, _f.Server.Database.ConnectionString, null, null), _work.File("backup"), backupKey.PublicKey,
            TimeProvider.System, CancellationToken.None);
        Assert.Contains(manifest.Pieces, p => p.Kind == BackupPieceKind.ProjectFile && p.Name == $"projects/{projectId}/jobs/{jobId}/log.ndjson");

        // The backup key alone does not read the output: a restore of the whole backup (no ledger) holds it only sealed.
        await BackupReader.RestoreAsync(_work.File("backup"), backupKey, _work.File("unguarded/data"), null, [], null, CancellationToken.None);
        Assert.Empty(FilesHolding(_work.File("unguarded"), secretOutput));
        var pending = _work.File("unguarded/data/" + RestoredProjectFiles.PendingMarker);
        Assert.True(File.Exists(pending));
        // ... and a server on it, holding the project key, opens it again: the output is kept, not lost.
        await using (var unguarded = await SpeTestServer.StartAsync(reuseDirectory: _work.File("unguarded")))
        {
            using var researcher = await unguarded.ClientForAccountAsync("researcher");
            Assert.Contains(secretOutput, JobsApi.Text(await JobsApi.LogAsync(researcher, projectId, jobId, follow: false), JobLogStreams.StandardOutput), StringComparison.Ordinal);
        }

        // Once every sealed file was opened the marker is gone, so a later start does not walk the project files again.
        Assert.False(File.Exists(pending));

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // The permit ends and, after the grace period, its project is erased (key destroyed, ledger written outside).
        _f.Clock.Advance(TimeSpan.FromDays(10));
        await _f.WaitForStateAsync(permitId, "terminated");
        _f.Clock.Advance(TimeSpan.FromDays(30));
        await _f.WaitForStateAsync(permitId, "erased");

        var restore = await BackupReader.RestoreAsync(_work.File("backup"), backupKey, _work.File("restored/data"), null, [_work.File("outside/shred-ledger.jsonl")], null, CancellationToken.None);

        Assert.Contains(restore.Shredded, e => e.ProjectId == projectId);
        Assert.False(Directory.Exists(_work.File($"restored/data/projects/{projectId}")));
        Assert.Empty(FilesHolding(_work.File("restored"), secretOutput));
        await using var server = await SpeTestServer.StartAsync(reuseDirectory: _work.File("restored"));
        using var client = await server.ClientForAccountAsync("researcher");
        using var log = await client.GetAsync(new Uri($"/api/v1/projects/{projectId}/jobs/{jobId}/logs", UriKind.Relative));
        using var job = await client.GetAsync(new Uri($"/api/v1/projects/{projectId}/jobs/{jobId}", UriKind.Relative));
        Assert.Contains(log.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.Gone });
        Assert.Contains(job.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.Gone });
        Assert.DoesNotContain(secretOutput, await log.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task A_start_without_a_restores_marker_does_not_look_for_sealed_project_files()
    {
        // A file that only looks sealed (a name a researcher's job could choose) is left as it is: only a restore, which leaves
        // the marker, makes the start open files.
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(10)));
        var directory = _work.File("plain");
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(Path.Combine(data, "projects", projectId));
        var lookalike = Path.Combine(data, "projects", projectId, "notes" + RestoredProjectFiles.Suffix);
        await File.WriteAllTextAsync(lookalike, "not a Crypt4GH file");
        await (await SpeTestServer.StartAsync(reuseDirectory: directory)).DisposeAsync();

        Assert.Equal("not a Crypt4GH file", await File.ReadAllTextAsync(lookalike));
    }

    /// <summary>Every file under <paramref name="root"/> whose bytes hold <paramref name="needle"/> (SQLite's WAL and journal included).</summary>
    private static List<string> FilesHolding(string root, string needle)
    {
        var bytes = Encoding.UTF8.GetBytes(needle);
        return [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => File.ReadAllBytes(f).AsSpan().IndexOf(bytes) >= 0)];
    }
}
