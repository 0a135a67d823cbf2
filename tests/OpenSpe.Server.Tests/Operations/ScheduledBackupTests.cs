using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// Scheduled backups and the evidence of backups and restore drills (OPR-21, OPR-24, OPR-27): the server backs itself up
/// on its clock into a directory outside its data, encrypted to the backup public key, records each outcome in the audit
/// log, keeps the newest <c>Backup:Keep</c>; operators record drills run with the offline key; operators and auditors read
/// the evidence; every other role is refused and nothing changes.
/// </summary>
public sealed class ScheduledBackupTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private Crypt4ghPrivateKey _backupSecret = null!;
    private PermitFixture _f = null!;
    private string _projectId = "";

    private string BackupRoot => _work.File("backups");

    public async ValueTask InitializeAsync()
    {
        _backupSecret = Crypt4ghPrivateKey.Generate();
        Directory.CreateDirectory(_work.Path);
        await File.WriteAllTextAsync(_work.File("backup.pub"), _backupSecret.PublicKey.ToPem());
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Backup:Interval"] = "06:00:00",
            ["Backup:Directory"] = BackupRoot,
            ["Backup:RecipientPublicKeyPath"] = _work.File("backup.pub"),
            ["Backup:Keep"] = "2",
        });
        (_, _projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(90), "HDAB-SCHEDULED-BACKUP-TITLE"));
    }

    public async ValueTask DisposeAsync()
    {
        _backupSecret.Dispose();
        await _f.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-24")]
    public async Task The_schedule_makes_a_backup_when_its_interval_passes_on_the_clock_and_records_it()
    {
        _f.Clock.Advance(TimeSpan.FromHours(6));

        var created = await WaitForAsync(ScheduledBackups.CreatedAction, 1);

        var backup = Assert.Single(Directory.GetDirectories(BackupRoot));
        Assert.Equal(Path.GetFileName(backup), created[0].ResourceId);
        Assert.Equal("success", created[0].Outcome);
        var details = JsonSerializer.Deserialize<Dictionary<string, string>>(created[0].DetailsJson)!;
        Assert.True(int.Parse(details["pieces"], System.Globalization.CultureInfo.InvariantCulture) > 1);
        Assert.Equal("sqlite", details["database"]);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-24")]
    public async Task Each_backup_is_encrypted_restorable_and_only_the_newest_are_kept()
    {
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            names.Add((await Scheduler.RunOnceAsync(CancellationToken.None))!);
            // Note: an hour, less than the interval, so the schedule itself makes no backup meanwhile.
            _f.Clock.Advance(TimeSpan.FromHours(1));
        }

        Assert.Equal(names.Skip(1).Order(StringComparer.Ordinal), Directory.GetDirectories(BackupRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await Audit(ScheduledBackups.CreatedAction)).Count);
        var pruned = Assert.Single(await Audit(ScheduledBackups.PrunedAction));
        Assert.Equal((names[0], "success"), (pruned.ResourceId, pruned.Outcome));
        var title = Encoding.UTF8.GetBytes("HDAB-SCHEDULED-BACKUP-TITLE");
        foreach (var file in Directory.EnumerateFiles(BackupRoot, "*", SearchOption.AllDirectories))
        {
            Assert.True((await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(title) < 0, $"{file} holds the permit's reference in clear");
        }

        var restore = await BackupReader.RestoreAsync(Path.Combine(BackupRoot, names[^1]), _backupSecret, _work.File("restored/data"), null, [], null, CancellationToken.None);
        Assert.True(restore.Restored > 1);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task A_backup_that_cannot_be_written_is_recorded_as_failed_and_leaves_nothing_behind()
    {
        // Note: a file where the backup directory should be, because the tests run as root, whom file modes do not stop.
        await File.WriteAllTextAsync(BackupRoot, "not a directory");

        Assert.Null(await Scheduler.RunOnceAsync(CancellationToken.None));
        File.Delete(_work.File("backup.pub"));
        Assert.Null(await Scheduler.RunOnceAsync(CancellationToken.None));

        var failed = await Audit(ScheduledBackups.FailedAction);
        Assert.Equal(2, failed.Count);
        Assert.All(failed, f => Assert.Equal("error", f.Outcome));
        Assert.Contains("the backup directory could not be written", failed[0].DetailsJson, StringComparison.Ordinal);
        Assert.Contains("the backup public key could not be read", failed[1].DetailsJson, StringComparison.Ordinal);
        Assert.All(failed, f => Assert.DoesNotContain(_work.Path, f.DetailsJson, StringComparison.Ordinal));
        Assert.Equal("not a directory", await File.ReadAllTextAsync(BackupRoot));
        Assert.Empty(await Audit(ScheduledBackups.CreatedAction));
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task An_operator_records_a_drill_and_operators_and_auditors_read_the_evidence()
    {
        var name = (await Scheduler.RunOnceAsync(CancellationToken.None))!;
        using var op = await _f.Server.ClientForAccountAsync("operator");
        using var auditor = await _f.Server.ClientForAccountAsync("auditor");

        var recorded = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill(name));
        var seenByOperator = await op.GetFromJsonAsync<JsonElement>("/api/v1/operations/backups");
        var seenByAuditor = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/operations/backups?limit=1");

        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        Assert.Equal(name, seenByOperator.GetProperty("lastBackup").GetProperty("backup").GetString());
        var drill = seenByOperator.GetProperty("lastDrill");
        Assert.Equal(name, drill.GetProperty("backup").GetString());
        Assert.Equal("success", drill.GetProperty("outcome").GetString());
        Assert.Equal("operator", drill.GetProperty("recordedBy").GetString());
        Assert.Equal("1234", drill.GetProperty("details").GetProperty("auditRecords").GetString());
        Assert.Equal("06:00:00", seenByOperator.GetProperty("schedule").GetString());
        Assert.Equal(2, seenByOperator.GetProperty("events").GetArrayLength());
        Assert.Equal("drill", Assert.Single(seenByAuditor.GetProperty("events").EnumerateArray()).GetProperty("kind").GetString());
        // Note: the page of one holds only the drill; the last backup is still named, read on its own.
        Assert.Equal(name, seenByAuditor.GetProperty("lastBackup").GetProperty("backup").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task The_drills_spe_backup_verify_posts_are_recorded_with_their_outcome()
    {
        using var op = await _f.Server.ClientForAccountAsync("operator");
        var at = PermitFixture.Start.AddHours(-1);
        // What 'spe backup verify --record' posts: a pass; a chain that does not verify (the server is then not started, so
        // /readyz is 0); a server not ready, with the problem it sends now and without one as it sent before.
        OpenSpe.Contracts.BackupDrillRecordRequest[] drills =
        [
            new("spe-backup-a", true, at, 57, 200),
            new("spe-backup-b", false, at, 3, 0, "record 4: hash does not match"),
            new("spe-backup-c", false, at, 57, 503, "the restored server is not ready (/readyz answered 503)"),
            new("spe-backup-d", false, at, 57, 503),
        ];

        var statuses = new List<HttpStatusCode>();
        foreach (var drill in drills)
        {
            using var response = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", drill);
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        var recorded = (await Audit(BackupEvidenceEndpoints.DrillAction)).OrderBy(r => r.Sequence).Select(r => (r.ResourceId, r.Outcome)).ToList();
        Assert.Equal([("spe-backup-a", "success"), ("spe-backup-b", "error"), ("spe-backup-c", "error"), ("spe-backup-d", "error")], recorded);
    }

    private ScheduledBackups Scheduler => _f.Server.Services.GetRequiredService<ScheduledBackups>();

    private static OpenSpe.Contracts.BackupDrillRecordRequest Drill(string backup) => new(backup, true, PermitFixture.Start.AddHours(-1), 1234, 200);

    private async Task<List<OpenSpe.Core.Audit.AuditRow>> Audit(string action) =>
        await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: action));

    /// <summary>Waits (up to 60 s of real time) until <paramref name="count"/> records of <paramref name="action"/> exist; the schedule runs on its own task.</summary>
    private async Task<List<OpenSpe.Core.Audit.AuditRow>> WaitForAsync(string action, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var rows = await Audit(action);
            if (rows.Count >= count)
            {
                return rows;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no {action} record after the interval passed");
            await Task.Delay(50);
        }
    }
}
