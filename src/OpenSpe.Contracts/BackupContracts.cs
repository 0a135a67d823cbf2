using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>
/// A restore drill's outcome, as <c>spe backup verify --record</c> reports it from the machine that holds the backup
/// secret key (the server never holds it): recorded as a <c>backup.drill</c> audit record under the operator's name.
/// </summary>
/// <param name="Backup">The backup's directory name (no path).</param>
/// <param name="Passed">True when every hash matched, the audit chain verified and the restored server was ready.</param>
/// <param name="BackupCreatedAt">When the backup was made (from its manifest); null only for a drill that failed before its manifest could be read.</param>
/// <param name="AuditRecords">Audit records the drill verified.</param>
/// <param name="ReadyStatus">What <c>/readyz</c> answered on the restored server.</param>
/// <param name="Problem">What failed, when it did.</param>
public sealed record BackupDrillRecordRequest(
    [property: Required, StringLength(128, MinimumLength = 1)] string Backup,
    bool Passed,
    DateTimeOffset? BackupCreatedAt,
    [property: Range(0, long.MaxValue)] long AuditRecords,
    [property: Range(0, 999)] int ReadyStatus,
    [property: StringLength(1000)] string? Problem = null);

/// <summary>One backup or restore drill, read from its audit record.</summary>
/// <param name="AuditSequence">The audit record's sequence number.</param>
/// <param name="At">When it was recorded.</param>
/// <param name="Kind"><c>backup</c> (scheduled backup made), <c>backup-failed</c>, <c>backup-pruned</c> (an old scheduled backup deleted: more than <c>Backup:Keep</c>) or <c>drill</c>.</param>
/// <param name="Backup">The backup's directory name.</param>
/// <param name="Outcome">The audit outcome: <c>success</c> or <c>error</c>.</param>
/// <param name="RecordedBy">Who recorded it (<c>system</c> for scheduled backups).</param>
/// <param name="Details">What the record holds (pieces, bytes, seconds; for a drill: audit records verified, ready status, problem).</param>
public sealed record BackupEventView(long AuditSequence, DateTimeOffset At, string Kind, string Backup, string Outcome, string RecordedBy, IReadOnlyDictionary<string, string> Details);

/// <summary>The evidence of backups and restore drills (OPR-21, OPR-24, OPR-27): the newest first.</summary>
/// <param name="Schedule">The scheduled backups' interval, or null when the server makes none.</param>
/// <param name="LastBackup">The newest backup made.</param>
/// <param name="LastDrill">The newest restore drill recorded.</param>
/// <param name="Events">Backups, failures and drills, newest first (at most the limit asked).</param>
public sealed record BackupEvidenceView(TimeSpan? Schedule, BackupEventView? LastBackup, BackupEventView? LastDrill, IReadOnlyList<BackupEventView> Events);
