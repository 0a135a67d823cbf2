using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Contracts;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The alerts on backup evidence (OPR-24, OPR-27) in a running server on a fake clock: a scheduled backup that fails, scheduled
/// backups that stop, and restore drills not recorded for longer than the rule's window each fire and reach the webhook.
/// The windows are configured short (a rule of a shipped rule's name replaces it) so that the clock moves hours, not a month.
/// </summary>
public sealed class BackupAlertTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private AlertWebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync()
    {
        _receiver = await AlertWebhookReceiver.StartAsync();
        using var key = Crypt4ghPrivateKey.Generate();
        await File.WriteAllTextAsync(_work.File("backup.pub"), key.PublicKey.ToPem());
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    [Trait("Requirement", "OPR-24")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_failing_schedule_fires_backup_failed_then_backup_overdue_and_a_backup_made_clears_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // Note: a file where the backup directory should be, so every scheduled backup fails to write.
        var root = _work.File("backups");
        await File.WriteAllTextAsync(root, "not a directory", TestContext.Current.CancellationToken);
        await using var server = await StartAsync(clock, root, new()
        {
            ["Alerts:Rules:0:Name"] = DefaultAlertRules.BackupOverdue,
            ["Alerts:Rules:0:Check"] = nameof(AlertCheck.BackupAge),
            ["Alerts:Rules:0:Window"] = "01:00:00",
        });
        var audit = server.Services.GetRequiredService<AuditService>();
        var rule = Rule(server, DefaultAlertRules.BackupOverdue);
        var started = clock.GetUtcNow();

        clock.Advance(TimeSpan.FromHours(6));
        var failed = await _receiver.NextAsync(DefaultAlertRules.BackupFailed);
        var notYet = await BackupEvidenceChecks.BackupBreachesAsync(audit, rule, TimeSpan.FromHours(6), started, clock.GetUtcNow(), CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(65));
        var overdue = await _receiver.NextAsync(DefaultAlertRules.BackupOverdue);
        File.Delete(root);
        Assert.NotNull(await server.Services.GetRequiredService<ScheduledBackups>().RunOnceAsync(CancellationToken.None));
        var afterBackup = await BackupEvidenceChecks.BackupBreachesAsync(audit, rule, TimeSpan.FromHours(6), started, clock.GetUtcNow(), CancellationToken.None);
        var withoutSchedule = await BackupEvidenceChecks.BackupBreachesAsync(audit, rule, null, started, clock.GetUtcNow().AddDays(30), CancellationToken.None);

        Assert.Equal(1, failed.GetProperty("value").GetInt64());
        Assert.Empty(notYet);
        Assert.Equal(BackupEvidenceChecks.BackupKey, overdue.GetProperty("key").GetString());
        Assert.Equal(7, overdue.GetProperty("value").GetInt64());
        Assert.Empty(afterBackup);
        Assert.Empty(withoutSchedule);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_backup_without_a_successful_drill_for_the_window_fires_restore_drill_overdue_and_only_a_passed_drill_clears_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, _work.File("backups"), new()
        {
            ["Alerts:Rules:0:Name"] = DefaultAlertRules.DrillOverdue,
            ["Alerts:Rules:0:Check"] = nameof(AlertCheck.DrillAge),
            ["Alerts:Rules:0:Window"] = "01:00:00",
        });
        var audit = server.Services.GetRequiredService<AuditService>();
        var checks = server.Services.GetRequiredService<PeriodicAlertChecks>();
        var rule = Rule(server, DefaultAlertRules.DrillOverdue);

        clock.Advance(TimeSpan.FromHours(2));
        var noBackupYet = await BackupEvidenceChecks.DrillBreachesAsync(audit, rule, clock.GetUtcNow(), CancellationToken.None);
        var backup = await server.Services.GetRequiredService<ScheduledBackups>().RunOnceAsync(CancellationToken.None);
        var backupAt = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(30));
        var youngBackup = await BackupEvidenceChecks.DrillBreachesAsync(audit, rule, clock.GetUtcNow(), CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(35));
        var overdue = await _receiver.NextAsync(DefaultAlertRules.DrillOverdue);
        // Note: signed in only now, because the clock has moved past an earlier token's lifetime.
        using var op = await server.ClientForAccountAsync("operator");
        using (var failedDrill = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", new BackupDrillRecordRequest(backup!, false, backupAt, 10, 503, "readyz answered 503"),
            TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, failedDrill.StatusCode);
        }

        var afterFailedDrill = await BackupEvidenceChecks.DrillBreachesAsync(audit, rule, clock.GetUtcNow(), CancellationToken.None);
        using (var passedDrill = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", new BackupDrillRecordRequest(backup!, true, backupAt, 10, 200),
            TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, passedDrill.StatusCode);
        }

        var afterPassedDrill = await checks.RunOnceAsync(TestContext.Current.CancellationToken);
        var cleared = await BackupEvidenceChecks.DrillBreachesAsync(audit, rule, clock.GetUtcNow(), CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(65));
        var again = await _receiver.NextAsync(DefaultAlertRules.DrillOverdue);

        Assert.Empty(noBackupYet);
        Assert.NotNull(backup);
        Assert.Empty(youngBackup);
        Assert.Equal(BackupEvidenceChecks.DrillKey, overdue.GetProperty("key").GetString());
        Assert.Equal(BackupEvidenceChecks.DrillKey, Assert.Single(afterFailedDrill).Key);
        Assert.DoesNotContain(afterPassedDrill, a => a.Rule == DefaultAlertRules.DrillOverdue);
        Assert.Empty(cleared);
        Assert.Equal(BackupEvidenceChecks.DrillKey, again.GetProperty("key").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task A_passed_drill_of_a_backup_the_server_never_made_neither_clears_restore_drill_overdue_nor_reads_as_evidence_in_the_report()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, _work.File("backups"), new()
        {
            ["Alerts:Rules:0:Name"] = DefaultAlertRules.DrillOverdue,
            ["Alerts:Rules:0:Check"] = nameof(AlertCheck.DrillAge),
            ["Alerts:Rules:0:Window"] = "01:00:00",
        });
        var audit = server.Services.GetRequiredService<AuditService>();
        var rule = Rule(server, DefaultAlertRules.DrillOverdue);
        var backup = await server.Services.GetRequiredService<ScheduledBackups>().RunOnceAsync(CancellationToken.None);
        var backupAt = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(65));
        using var op = await server.ClientForAccountAsync("operator");
        using var auditor = await server.ClientForAccountAsync("auditor");

        // Note: a name the server never backed up to, as an operator who never ran a drill could post it.
        using (var madeUp = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", new BackupDrillRecordRequest("spe-backup-never-made", true, backupAt, 10, 200),
            TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, madeUp.StatusCode);
        }

        var afterMadeUp = await BackupEvidenceChecks.DrillBreachesAsync(audit, rule, clock.GetUtcNow(), CancellationToken.None);
        var evidence = await OpenSpe.Compliance.EvidenceCollector.CollectAsync(new ClientEvidence(auditor), verifyAuditNow: false, TestContext.Current.CancellationToken);
        using (var real = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", new BackupDrillRecordRequest(backup!, true, backupAt, 10, 200),
            TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, real.StatusCode);
        }

        var afterReal = await BackupEvidenceChecks.DrillBreachesAsync(audit, rule, clock.GetUtcNow(), CancellationToken.None);
        var drills = (await audit.QueryAsync(new AuditQuery(Action: BackupEvidenceEndpoints.DrillAction), TestContext.Current.CancellationToken)).OrderBy(r => r.Sequence)
            .Select(r => (r.ResourceId, r.ToEntry().Detail(BackupEvidenceEndpoints.MadeHereDetail))).ToList();

        Assert.Equal(BackupEvidenceChecks.DrillKey, Assert.Single(afterMadeUp).Key);
        var summary = Assert.Single(evidence, e => e.Name == "backup-and-restore-drill").Summary;
        Assert.Contains("spe-backup-never-made", summary, StringComparison.Ordinal);
        Assert.Contains("as recorded by operator; this server has NO record of making that backup", summary, StringComparison.Ordinal);
        Assert.Empty(afterReal);
        Assert.Equal([("spe-backup-never-made", "false"), (backup, "true")], drills);
    }

    /// <summary>The report's evidence read with a test client's token, as the CLI reads it with its own.</summary>
    private sealed class ClientEvidence(HttpClient client) : OpenSpe.Compliance.IEvidenceSource
    {
        public async Task<OpenSpe.Compliance.EvidenceAnswer> GetAsync(string path, CancellationToken cancellationToken)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode ? new((int)response.StatusCode, body, null) : new((int)response.StatusCode, "", body);
        }
    }

    private static AlertRule Rule(SpeTestServer server, string name) =>
        server.Services.GetRequiredService<AlertEvaluator>().Rules.Single(r => r.Name == name);

    private Task<SpeTestServer> StartAsync(TimeProvider time, string backupRoot, Dictionary<string, string?> settings)
    {
        settings["Backup:Interval"] = "06:00:00";
        settings["Backup:Directory"] = backupRoot;
        settings["Backup:RecipientPublicKeyPath"] = _work.File("backup.pub");
        return SpeTestServer.StartAsync(time: time, settings: _receiver.Settings(settings));
    }
}
