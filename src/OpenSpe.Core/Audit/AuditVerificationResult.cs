namespace OpenSpe.Core.Audit;

/// <summary>What a verification of the audit log found.</summary>
/// <param name="Valid">True when every record and checkpoint checked out.</param>
/// <param name="RecordsChecked">Records read.</param>
/// <param name="CheckpointsChecked">Checkpoints read.</param>
/// <param name="FirstSequence">Sequence of the first record kept (after purges), or null when there are none.</param>
/// <param name="LastSequence">Sequence of the last record read, or null.</param>
/// <param name="FirstBadSequence">The first sequence number at which the log stops being trustworthy.</param>
/// <param name="Problem">A stable problem class (<see cref="AuditVerificationProblems"/>), or null.</param>
/// <param name="Message">A human explanation, or null when valid.</param>
/// <param name="LatestCheckpointMicros">When the newest valid checkpoint was signed, so a verifier can judge liveness.</param>
public sealed record AuditVerificationResult(
    bool Valid,
    long RecordsChecked,
    long CheckpointsChecked,
    long? FirstSequence,
    long? LastSequence,
    long? FirstBadSequence,
    string? Problem,
    string? Message,
    long? LatestCheckpointMicros);

/// <summary>Stable names for the ways a log can fail verification.</summary>
public static class AuditVerificationProblems
{
    /// <summary>A record's content does not match its hash.</summary>
    public const string RecordModified = "record-modified";

    /// <summary>A sequence number is missing.</summary>
    public const string RecordMissing = "record-missing";

    /// <summary>A record appears out of order or twice.</summary>
    public const string RecordOutOfOrder = "record-out-of-order";

    /// <summary>A signed checkpoint covers records that are gone.</summary>
    public const string Truncated = "truncated";

    /// <summary>A checkpoint's signature does not verify.</summary>
    public const string CheckpointForged = "checkpoint-forged";

    /// <summary>A checkpoint's hash disagrees with the record at its sequence.</summary>
    public const string CheckpointMismatch = "checkpoint-mismatch";

    /// <summary>A record is malformed (unknown outcome, wrong hash length).</summary>
    public const string RecordMalformed = "record-malformed";

    /// <summary>The log holds no records: a log the server writes is never empty (it records its own start).</summary>
    public const string LogEmpty = "log-empty";

    /// <summary>A witnessed checkpoint is beyond the end of the log, or no longer among the stored checkpoints.</summary>
    public const string WitnessMissing = "witness-missing";

    /// <summary>The log has a different hash at a witnessed checkpoint's sequence: it was rewritten.</summary>
    public const string WitnessMismatch = "witness-mismatch";

    /// <summary>A witnessed checkpoint's signature does not verify with the trusted key.</summary>
    public const string WitnessForged = "witness-forged";

    /// <summary>A purge anchor lies past a witnessed checkpoint younger than the minimum retention: records were removed before their time.</summary>
    public const string WitnessPurgedEarly = "witness-purged-early";
}
