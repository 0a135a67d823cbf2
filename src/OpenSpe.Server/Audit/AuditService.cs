using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Reading, verifying, exporting and purging the audit log. The same code serves the API and the
/// offline CLI (<c>spe audit verify --data-dir</c>), which runs on a copy of the data directory.
/// </summary>
internal sealed class AuditService(AuditStore store, AuditSigningKey verificationKey, IOptions<AuditOptions> options, TimeProvider time)
{
    /// <summary>The smallest sequence range verified on its own thread (tests make it small to cross range borders).</summary>
    internal long RecordsPerVerifyRange { get; init; } = AuditChainVerifier.DefaultMinimumRecordsPerRange;

    /// <summary>Verifies every record and checkpoint.</summary>
    public Task<AuditVerificationResult> VerifyAsync(CancellationToken cancellationToken = default) => VerifyAsync(null, cancellationToken);

    /// <summary>Verifies every record and checkpoint, and that the log contains every <paramref name="witnessed"/> checkpoint exactly.</summary>
    public async Task<AuditVerificationResult> VerifyAsync(IReadOnlyList<AuditWitnessedCheckpoint>? witnessed, CancellationToken cancellationToken = default)
    {
        await using var connection = await store.OpenAsync(cancellationToken);
        var checkpoints = await AuditStore.ReadCheckpointsAsync(connection, cancellationToken);
        var verifier = new AuditChainVerifier(verificationKey, time);
        if (store.Database.Provider == DatabaseProvider.Sqlite)
        {
            var last = await AuditStore.ReadLastSequenceAsync(connection, cancellationToken);
            var source = new SqliteAuditRowSource(store.Database);
            var result = await Task.Run(
                () => verifier.VerifyInParallel(source, checkpoints, last, Environment.ProcessorCount, RecordsPerVerifyRange, witnessed),
                cancellationToken);
            if (result.Valid)
            {
                return result;
            }

            // Note: the ranges were read from separate snapshots, so a purge or append in between could
            // look like a fault. A fault is only reported after one pass over a single snapshot finds it.
            checkpoints = await AuditStore.ReadCheckpointsAsync(connection, cancellationToken);
        }

        return verifier.Verify(AuditStore.ReadRows(connection), checkpoints, witnessed);
    }

    /// <summary>A page of records matching the query (copies, safe to keep).</summary>
    public async Task<List<AuditRow>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        await using var connection = await store.OpenAsync(cancellationToken);
        return AuditStore.ReadRows(connection, query).Select(r => r.Clone()).ToList();
    }

    /// <summary>
    /// Hands each record matching <paramref name="query"/> to <paramref name="each"/> in sequence order, one at a time (the
    /// row is reused: copy what is kept), so a long range is read without holding it.
    /// </summary>
    public async Task ForEachAsync(AuditQuery query, Action<AuditRow> each, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(each);
        await using var connection = await store.OpenAsync(cancellationToken);
        foreach (var row in AuditStore.ReadRows(connection, query))
        {
            cancellationToken.ThrowIfCancellationRequested();
            each(row);
        }
    }

    /// <summary>All checkpoints, oldest first.</summary>
    public async Task<List<AuditCheckpoint>> CheckpointsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await store.OpenAsync(cancellationToken);
        return await AuditStore.ReadCheckpointsAsync(connection, cancellationToken);
    }

    /// <summary>Streams matching records as JSON Lines or CSV.</summary>
    public async Task ExportAsync(AuditQuery query, AuditExportFormat format, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var connection = await store.OpenAsync(cancellationToken);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        if (format == AuditExportFormat.Csv)
        {
            await writer.WriteLineAsync(AuditCsv.Header);
        }

        foreach (var row in AuditStore.ReadRows(connection, query))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteLineAsync(format == AuditExportFormat.Csv ? AuditCsv.Line(row) : JsonSerializer.Serialize(row.ToView(), AuditJson.Options));
        }

        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Removes records older than the retention period (never less than 365 days) and leaves a
    /// signed purge checkpoint so that the rest still verifies.
    /// </summary>
    public async Task<AuditPurgeResult> PurgeAsync(AuditSigningKey signingKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        var retentionDays = Math.Max(AuditOptions.MinimumRetentionDays, options.Value.RetentionDays);
        var now = time.GetUtcNow();
        var cutoff = AuditTime.ToMicros(now.AddDays(-retentionDays));
        await using var connection = await store.OpenAsync(cancellationToken);
        var result = await AuditStore.PurgeAsync(connection, cutoff,
            (sequence, hash) => signingKey.Sign(sequence, hash, AuditTime.ToMicros(now), AuditCheckpointKinds.Purge), cancellationToken);
        return result is { } r
            ? new AuditPurgeResult(r.Removed, r.Anchor.Sequence, AuditTime.FromMicros(cutoff), retentionDays)
            : new AuditPurgeResult(0, null, AuditTime.FromMicros(cutoff), retentionDays);
    }
}

/// <summary>Export formats.</summary>
internal enum AuditExportFormat
{
    /// <summary>One JSON object per line.</summary>
    Jsonl,

    /// <summary>RFC 4180 CSV with a header row.</summary>
    Csv,
}

/// <summary>What a purge did.</summary>
/// <param name="Removed">Records removed.</param>
/// <param name="AnchorSequence">Sequence of the new purge anchor, or null when nothing was old enough.</param>
/// <param name="Cutoff">Records before this time were eligible.</param>
/// <param name="RetentionDays">Retention applied.</param>
public sealed record AuditPurgeResult(long Removed, long? AnchorSequence, DateTimeOffset Cutoff, int RetentionDays);

/// <summary>CSV rendering of audit rows (RFC 4180 quoting).</summary>
internal static class AuditCsv
{
    public const string Header = "sequence,timestamp,actor_subject,actor_username,actor_roles,actor_client_id,source_ip,user_agent,action,resource_type,resource_id,project_id,outcome,http_status,trace_id,details,hash";

    public static string Line(AuditRow row)
    {
        string[] fields =
        [
            row.Sequence.ToString(CultureInfo.InvariantCulture), AuditTime.Format(row.TimestampMicros), row.ActorSubject ?? "", row.ActorUsername ?? "",
            row.ActorRoles, row.ActorClientId ?? "", row.SourceIp ?? "", row.UserAgent ?? "", row.Action, row.ResourceType ?? "", row.ResourceId ?? "",
            row.ProjectId ?? "", row.Outcome, row.HttpStatus?.ToString(CultureInfo.InvariantCulture) ?? "", row.TraceId ?? "", row.DetailsJson,
            Convert.ToHexStringLower(row.Hash),
        ];
        return string.Join(',', fields.Select(Quote));
    }

    private static string Quote(string value)
    {
        // Note: a leading formula character is neutralised so a spreadsheet never executes audit content; a tab or carriage
        // return too, because some spreadsheets skip it and read the formula after it.
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
