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
