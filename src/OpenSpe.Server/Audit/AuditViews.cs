using System.Text.Json;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>The contracts' views of stored audit rows, checkpoints and verification results.</summary>
internal static class AuditViews
{
    /// <summary>Builds the view of a stored row.</summary>
    public static AuditRecordView ToView(this AuditRow row)
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

    /// <summary>Builds the view of a checkpoint.</summary>
    public static AuditCheckpointView ToView(this AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return new AuditCheckpointView(checkpoint.Sequence, Convert.ToHexStringLower(checkpoint.Hash), AuditTime.FromMicros(checkpoint.TimestampMicros),
            checkpoint.Kind, checkpoint.KeyId, Convert.ToBase64String(checkpoint.Signature));
    }

    /// <summary>Builds the view of a verification by the key <paramref name="keyId"/>.</summary>
    public static AuditVerificationView ToView(this AuditVerificationResult result, string keyId)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new AuditVerificationView(result.Valid, result.RecordsChecked, result.CheckpointsChecked, result.FirstSequence, result.LastSequence,
            result.FirstBadSequence, result.Problem, result.Message,
            result.LatestCheckpointMicros is { } micros ? AuditTime.FromMicros(micros) : null, keyId);
    }
}
