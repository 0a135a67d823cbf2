using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace OpenSpe.Contracts;

/// <summary>An audit record as the API and the export show it.</summary>
public sealed record AuditRecordView(
    long Sequence,
    DateTimeOffset Timestamp,
    AuditActorView Actor,
    string Action,
    AuditResourceView Resource,
    string Outcome,
    int? HttpStatus,
    string? TraceId,
    JsonElement Details,
    string Hash);

/// <summary>Actor part of <see cref="AuditRecordView"/>.</summary>
public sealed record AuditActorView(string? SubjectId, string? Username, IReadOnlyList<string> Roles, string? ClientId, string? SourceIp, string? UserAgent);

/// <summary>Resource part of <see cref="AuditRecordView"/>.</summary>
public sealed record AuditResourceView(string? Type, string? Id, string? ProjectId);

/// <summary>A page of records; pass <see cref="NextAfter"/> as <c>after</c> for the next page.</summary>
public sealed record AuditRecordPage(IReadOnlyList<AuditRecordView> Items, long? NextAfter);

/// <summary>A checkpoint as the API shows it.</summary>
public sealed record AuditCheckpointView(long Sequence, string Hash, DateTimeOffset Timestamp, string Kind, string KeyId, string Signature);

/// <summary>
/// The last verification of the whole chain that the log records (<c>audit.verified</c>, written by every
/// <c>GET /api/v1/audit/verify</c>): when it ran, who ran it, and what it found.
/// </summary>
/// <param name="Sequence">The sequence of the record that holds it.</param>
/// <param name="VerifiedAt">When it was recorded, right after the verification finished.</param>
/// <param name="VerifiedBy">Who asked for it (username, else subject or client id).</param>
/// <param name="Valid">True when every record and checkpoint verified.</param>
/// <param name="RecordsChecked">Records checked.</param>
/// <param name="CheckpointsChecked">Checkpoints checked.</param>
/// <param name="LastSequence">The last sequence it covered; records after it are not covered.</param>
/// <param name="FirstBadSequence">The first bad sequence, when it failed.</param>
/// <param name="Problem">The problem class, when it failed.</param>
public sealed record AuditLastVerificationView(
    long Sequence,
    DateTimeOffset VerifiedAt,
    string? VerifiedBy,
    bool Valid,
    long RecordsChecked,
    long CheckpointsChecked,
    long? LastSequence,
    long? FirstBadSequence,
    string? Problem);

/// <summary>The result of a verification as the API and CLI show it.</summary>
public sealed record AuditVerificationView(
    bool Valid,
    long RecordsChecked,
    long CheckpointsChecked,
    long? FirstSequence,
    long? LastSequence,
    long? FirstBadSequence,
    string? Problem,
    string? Message,
    DateTimeOffset? LatestCheckpoint,
    string KeyId)
{
    /// <summary>How many witnessed checkpoints were checked (null when none were given).</summary>
    public int? WitnessedCheckpoints { get; init; }
}

/// <summary>Purge request: the operator states why (the reason goes into the audit record).</summary>
public sealed record AuditPurgeRequest(
    [property: Required]
    [property: StringLength(500, MinimumLength = 3)]
    string Reason);

/// <summary>The checkpoint-signing public key.</summary>
/// <param name="KeyId">Key id used in checkpoints.</param>
/// <param name="Algorithm">JOSE name of the signature algorithm.</param>
/// <param name="PublicKeyPem">SubjectPublicKeyInfo PEM.</param>
public sealed record AuditPublicKeyView(string KeyId, string Algorithm, string PublicKeyPem);

/// <summary>
/// The witnesses the server pushes its signed checkpoints to (<c>Audit:Witnesses:*</c>) and how far each has got, against
/// the newest checkpoint the server signed (<c>GET /api/v1/audit/witnesses</c>).
/// </summary>
/// <param name="LatestSequence">The sequence of the newest signed checkpoint; null before the first one.</param>
/// <param name="LatestTimestamp">Its time.</param>
/// <param name="Witnesses">Every configured witness, files first, in configuration order; empty when none is configured.</param>
public sealed record AuditWitnessesView(long? LatestSequence, DateTimeOffset? LatestTimestamp, IReadOnlyList<AuditWitnessView> Witnesses);

/// <summary>One witness and its state.</summary>
/// <param name="Kind"><c>file</c> or <c>endpoint</c>.</param>
/// <param name="Name">The file's path, or the endpoint's URL without its query (which may hold a credential).</param>
/// <param name="State">One of <see cref="AuditWitnessStates"/>.</param>
/// <param name="Sequence">The newest checkpoint the witness holds: read from the file, or the last one the endpoint accepted from this server (a record kept across restarts).</param>
/// <param name="Hash">That checkpoint's hash.</param>
/// <param name="AcceptedAt">When the witness took it: the file's last write, or the endpoint's answer.</param>
/// <param name="RecordsBehind">Records signed since the checkpoint it holds (0 when current).</param>
/// <param name="LastFailureAt">When the last push to it failed, if that came after the last one it accepted.</param>
/// <param name="LastFailure">Why, in words without secrets.</param>
public sealed record AuditWitnessView(
    string Kind,
    string Name,
    string State,
    long? Sequence,
    string? Hash,
    DateTimeOffset? AcceptedAt,
    long? RecordsBehind,
    DateTimeOffset? LastFailureAt,
    string? LastFailure);

/// <summary>The states of <see cref="AuditWitnessView.State"/>.</summary>
public static class AuditWitnessStates
{
    /// <summary>It holds the newest signed checkpoint.</summary>
    public const string Current = "current";

    /// <summary>It holds an older checkpoint that the newest one extends; the next push brings it up to date.</summary>
    public const string Behind = "behind";

    /// <summary>The last push to it failed (unreachable, refused, not writable); see <see cref="AuditWitnessView.LastFailure"/>.</summary>
    public const string Failing = "failing";

    /// <summary>
    /// It holds a checkpoint the server's log contradicts (another hash for a sequence, a newer sequence, another key): the
    /// log was truncated or rewritten, or the witness was tampered with. An auditor investigates.
    /// </summary>
    public const string Disagrees = "disagrees";

    /// <summary>It holds no checkpoint yet (a file not yet written; an endpoint that has accepted none from this server).</summary>
    public const string Empty = "empty";

    /// <summary>The witness file cannot be read or is not a witness file.</summary>
    public const string Unreadable = "unreadable";
}
