using System.Globalization;
using System.Text.Json;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>
/// The record every verification of the whole chain over the API leaves in the log (<c>audit.verified</c>): its result, so
/// that the compliance report can say when the chain last verified without verifying it again on every view (OPR-6, OPR-7).
/// </summary>
/// <remarks>
/// Note: the record is itself chained, so a forged "valid" row breaks the chain and is found by the next real verification,
/// which anyone with the auditor role can run; the report says when the result was recorded and offers that verification.
/// </remarks>
internal static class AuditVerificationRecord
{
    /// <summary>The record's action.</summary>
    public const string Action = "audit.verified";

    /// <summary>The entry recording <paramref name="result"/>, asked for by <paramref name="actor"/>.</summary>
    public static AuditEntry Entry(AuditActor actor, string? traceId, AuditVerificationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["valid"] = result.Valid ? "true" : "false",
            ["recordsChecked"] = Text(result.RecordsChecked),
            ["checkpointsChecked"] = Text(result.CheckpointsChecked),
        };
        Put(details, "lastSequence", result.LastSequence);
        Put(details, "firstBadSequence", result.FirstBadSequence);
        if (result.Problem is { } problem)
        {
            details["problem"] = problem;
        }

        return new AuditEntry(actor, Action, new AuditResource("audit-log", null, null), result.Valid ? AuditOutcome.Success : AuditOutcome.Error, null, traceId, details);
    }

    /// <summary>The view of a stored <c>audit.verified</c> record.</summary>
    public static AuditLastVerificationView ToView(AuditRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        using var document = JsonDocument.Parse(row.DetailsJson);
        var details = document.RootElement;
        string? Get(string name) => details.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        long? Number(string name) => long.TryParse(Get(name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        return new AuditLastVerificationView(row.Sequence, AuditTime.FromMicros(row.TimestampMicros), row.ActorUsername ?? row.ActorSubject ?? row.ActorClientId,
            Get("valid") == "true", Number("recordsChecked") ?? 0, Number("checkpointsChecked") ?? 0, Number("lastSequence"), Number("firstBadSequence"), Get("problem"));
    }

    private static void Put(Dictionary<string, string> details, string name, long? value)
    {
        if (value is { } v)
        {
            details[name] = Text(v);
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
