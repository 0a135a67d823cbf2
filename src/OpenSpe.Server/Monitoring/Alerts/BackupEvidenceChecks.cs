using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Operations.Backups;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// The periodic checks that backups and restore drills keep happening (OPR-24, OPR-27), read from the audit records that
/// are their evidence (<c>backup.created</c>, <c>backup.drill</c>): the server cannot run a drill itself (the backup secret
/// key stays offline), but it can see when none was recorded and say so.
/// </summary>
internal static class BackupEvidenceChecks
{
    /// <summary>The key of the scheduled backups' condition.</summary>
    public const string BackupKey = "scheduled-backup";

    /// <summary>The key of the restore drills' condition.</summary>
    public const string DrillKey = "restore-drill";

    // Note: failed drills are recorded too; the newest success is looked for among this many of the newest drill records.
    private const int DrillsRead = 100;

    /// <summary>
    /// Scheduled backups overdue: with <paramref name="interval"/> set, the newest <c>backup.created</c> (or the server's
    /// start, when none was ever made) is older than the interval plus the rule's window. The value is the hours since.
    /// </summary>
    public static async Task<IReadOnlyList<(string Key, long Value, string? ProjectId)>> BackupBreachesAsync(AuditService audit, AlertRule rule, TimeSpan? interval,
        DateTimeOffset started, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (interval is not { } every)
        {
            return [];
        }

        var newest = await audit.QueryAsync(new AuditQuery(Action: ScheduledBackups.CreatedAction, Limit: 1, NewestFirst: true), cancellationToken);
        var since = newest.Count > 0 ? AuditTime.FromMicros(newest[0].TimestampMicros) : started;
        return now - since > every + rule.Window ? [(BackupKey, WholeHours(now - since), null)] : [];
    }

    /// <summary>
    /// Restore drills overdue: the newest successful <c>backup.drill</c> (of a backup this server made, once it has made any) is
    /// older than the rule's window; with none recorded,
    /// the oldest <c>backup.created</c> is (a backup that has waited a whole window without a drill). With neither, the
    /// server knows of no backup to drill and stays quiet. The value is the whole days since.
    /// </summary>
    public static async Task<IReadOnlyList<(string Key, long Value, string? ProjectId)>> DrillBreachesAsync(AuditService audit, AlertRule rule, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var drills = await audit.QueryAsync(new AuditQuery(Action: BackupEvidenceEndpoints.DrillAction, Limit: DrillsRead, NewestFirst: true), cancellationToken);
        var oldestBackup = (await audit.QueryAsync(new AuditQuery(Action: ScheduledBackups.CreatedAction, Limit: 1), cancellationToken))
            .Select(r => (DateTimeOffset?)AuditTime.FromMicros(r.TimestampMicros)).FirstOrDefault();
        // Note: while the server makes backups itself, only a passed drill of one of them counts: a drill naming a backup the
        // server never recorded making is the operator's word about something the server cannot see, and a made-up name must
        // not silence this rule. Without backups of its own (manual ones only), every passed drill counts, as before.
        var passed = drills.FirstOrDefault(d => d.Outcome == "success"
            && (oldestBackup is null || d.ToEntry().Detail(BackupEvidenceEndpoints.MadeHereDetail) != "false"));
        var since = passed is not null ? AuditTime.FromMicros(passed.TimestampMicros) : oldestBackup;
        return since is { } from && now - from > rule.Window ? [(DrillKey, (long)(now - from).TotalDays, null)] : [];
    }

    private static long WholeHours(TimeSpan age) => (long)Math.Min(age.TotalHours, 1_000_000);
}
