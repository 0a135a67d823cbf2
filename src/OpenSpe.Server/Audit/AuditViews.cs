using System.Text.Json;
using System.Text.Json.Serialization;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

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
    string Hash)
{
    /// <summary>Builds the view of a stored row.</summary>
    public static AuditRecordView From(AuditRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        using var details = JsonDocument.Parse(row.DetailsJson);
        return new AuditRecordView(
            row.Sequence,
            AuditTime.FromMicros(row.TimestampMicros),
            new AuditActorView(row.ActorSubject, row.ActorUsername, row.ActorRoles.Split(' ', StringSplitOptions.RemoveEmptyEntries), row.ActorClientId, row.SourceIp, row.UserAgent),
            row.Action,
            new AuditResourceView(row.ResourceType, row.ResourceId, row.ProjectId),
            row.Outcome,
            row.HttpStatus,
            row.TraceId,
            details.RootElement.Clone(),
            Convert.ToHexStringLower(row.Hash));
    }
}

/// <summary>Actor part of <see cref="AuditRecordView"/>.</summary>
public sealed record AuditActorView(string? SubjectId, string? Username, IReadOnlyList<string> Roles, string? ClientId, string? SourceIp, string? UserAgent);

/// <summary>Resource part of <see cref="AuditRecordView"/>.</summary>
public sealed record AuditResourceView(string? Type, string? Id, string? ProjectId);

/// <summary>A page of records; pass <see cref="NextAfter"/> as <c>after</c> for the next page.</summary>
public sealed record AuditRecordPage(IReadOnlyList<AuditRecordView> Items, long? NextAfter);

/// <summary>A checkpoint as the API shows it.</summary>
public sealed record AuditCheckpointView(long Sequence, string Hash, DateTimeOffset Timestamp, string Kind, string KeyId, string Signature)
{
    /// <summary>Builds the view.</summary>
    public static AuditCheckpointView From(AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return new AuditCheckpointView(checkpoint.Sequence, Convert.ToHexStringLower(checkpoint.Hash), AuditTime.FromMicros(checkpoint.TimestampMicros),
            checkpoint.Kind, checkpoint.KeyId, Convert.ToBase64String(checkpoint.Signature));
    }
}

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

    /// <summary>Builds the view.</summary>
    public static AuditVerificationView From(AuditVerificationResult result, string keyId)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new AuditVerificationView(result.Valid, result.RecordsChecked, result.CheckpointsChecked, result.FirstSequence, result.LastSequence,
            result.FirstBadSequence, result.Problem, result.Message,
            result.LatestCheckpointMicros is { } micros ? AuditTime.FromMicros(micros) : null, keyId);
    }
}

/// <summary>Purge request: the operator states why (the reason goes into the audit record).</summary>
public sealed record AuditPurgeRequest(
    [property: System.ComponentModel.DataAnnotations.Required]
    [property: System.ComponentModel.DataAnnotations.StringLength(500, MinimumLength = 3)]
    string Reason);

/// <summary>Serializer settings for audit views outside the HTTP pipeline (export, CLI).</summary>
public static class AuditJson
{
    /// <summary>Camel-case, compact.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };
}
