using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Audit;

/// <summary>The audit API under <c>/api/v1/audit</c>: auditors read and verify; operators purge; anyone may fetch the public key.</summary>
internal static class AuditEndpoints
{
    private const int MaxPage = 1000;
    private const int MaxFilterLength = 200;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/audit").WithTags("Audit").WithMetadata(new AuditResourceAttribute("audit-log")).ProducesCommonProblems();

        group.MapGet("/records", ListRecordsAsync).WithName("audit.records.list").RequireAuthorization(SpePolicies.Auditor).ProducesSignedInProblems()
            .WithSummary("Pages through audit records, filtered by actor, action, project and time.");
        group.MapGet("/verify", VerifyAsync).WithName("audit.verify").RequireAuthorization(SpePolicies.Auditor).ProducesSignedInProblems()
            .WithSummary("Verifies every record and checkpoint; reports the first bad sequence number. The result is recorded in the log (audit.verified).");
        group.MapGet("/verifications/latest", LatestVerificationAsync).WithName("audit.verifications.latest").RequireAuthorization(SpePolicies.Auditor)
            .ProducesSignedInProblems().ProducesProblems(404)
            .WithSummary("The last verification of the whole chain the log records (when, by whom, what it found), without verifying again; 404 before the first one.");
        group.MapGet("/checkpoints", ListCheckpointsAsync).WithName("audit.checkpoints.list").RequireAuthorization(SpePolicies.Auditor).ProducesSignedInProblems()
            .WithSummary("The most recent signed checkpoints (signed tree heads), newest last.");
        group.MapGet("/checkpoints/latest", LatestCheckpointAsync).WithName("audit.checkpoints.latest").RequireAuthorization(SpePolicies.Auditor)
            .ProducesSignedInProblems().ProducesProblems(404)
            .WithSummary("The newest signed checkpoint with the public key that verifies it, for a witness to keep ('spe audit witness'); 404 before the first one.");
        group.MapGet("/witnesses", AuditWitnessReport.GetAsync).WithName("audit.witnesses.list").RequireAuthorization(SpePolicies.Auditor).ProducesSignedInProblems()
            .WithSummary("Every configured witness of the signed checkpoints and how far it has got: the checkpoint it holds, when it took it, the records signed since, and the last failed push.");
        // Note: streamed, not held: an export of the whole log can be far larger than memory (opened and closed records instead).
        group.MapGet("/export", ExportAsync).WithName("audit.export").RequireAuthorization(SpePolicies.Auditor).WithAuditStreaming().ProducesSignedInProblems()
            .WithSummary("Streams records as JSON Lines or CSV, filtered by actor, action, project and time as the records' search is.")
            .Produces(200, contentType: "application/jsonl").Produces(200, contentType: "text/csv");
        group.MapGet("/public-key", PublicKey).WithName("audit.public-key").AllowAnonymous()
            .WithSummary("The checkpoint-signing public key (SPKI PEM), to verify a copy of the log offline.");
        group.MapPost("/purge", PurgeAsync).WithName("audit.purge").RequireAuthorization(SpePolicies.Operator).ProducesSignedInProblems()
            .Validate<AuditPurgeRequest>()
            .WithSummary("Removes records older than the retention period (at least 365 days) and signs a purge anchor.");
        return routes;
    }

    private static async Task<Results<Ok<AuditRecordPage>, ValidationProblem>> ListRecordsAsync(
        AuditService audit, string? actor, string? action, string? project, DateTimeOffset? since, DateTimeOffset? until, long? after, int? limit,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        CheckFilters(errors, actor, action, project, since, until);
        if (limit is < 1 or > MaxPage)
        {
            errors["limit"] = [$"limit must be between 1 and {MaxPage}."];
        }

        if (after is < 0)
        {
            errors["after"] = ["after must not be negative."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors, "The query has invalid parameters.");
        }

        var pageSize = limit ?? 100;
        var rows = await audit.QueryAsync(new AuditQuery(actor, action, project, Micros(since), Micros(until), after, pageSize), cancellationToken);
        var items = rows.Select(AuditViews.ToView).ToList();
        return TypedResults.Ok(new AuditRecordPage(items, items.Count == pageSize ? items[^1].Sequence : null));
    }

    private static async Task<Ok<AuditVerificationView>> VerifyAsync(HttpContext context, AuditService audit, AuditSigningKey key, IAuditLog log, CancellationToken cancellationToken)
    {
        var result = await audit.VerifyAsync(cancellationToken);
        // Note: recorded in the log, so that the compliance report can show the last result and when it ran without verifying the
        // whole chain on every view; a verification whose result cannot be recorded fails closed like any unaudited answer.
        await log.AppendAsync(AuditVerificationRecord.Entry(AuditActors.From(context.User, context), TraceIds.Current(context), result), CancellationToken.None);
        return TypedResults.Ok(result.ToView(key.KeyId));
    }

    private static async Task<Results<Ok<AuditLastVerificationView>, ProblemHttpResult>> LatestVerificationAsync(AuditService audit, CancellationToken cancellationToken)
    {
        var rows = await audit.QueryAsync(new AuditQuery(Action: AuditVerificationRecord.Action, Limit: 1, NewestFirst: true), cancellationToken);
        return rows.Count == 0
            ? Problems.Of(StatusCodes.Status404NotFound,
                "No verification of the audit chain has been recorded yet; run one (Verify on the portal's /compliance, 'spe audit verify --server' or GET /api/v1/audit/verify).")
            : TypedResults.Ok(AuditVerificationRecord.ToView(rows[0]));
    }

    private static async Task<Results<Ok<List<AuditCheckpointView>>, ValidationProblem>> ListCheckpointsAsync(AuditService audit, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxPage)
        {
            return Problems.Invalid("limit", $"limit must be between 1 and {MaxPage}.");
        }

        var all = await audit.CheckpointsAsync(cancellationToken);
        return TypedResults.Ok(all.TakeLast(limit ?? 100).Select(AuditViews.ToView).ToList());
    }

    private static async Task<Results<Ok<AuditCheckpointDocument>, ProblemHttpResult>> LatestCheckpointAsync(
        AuditCheckpointLedger ledger, AuditStore store, AuditSigningKey key, CancellationToken cancellationToken)
    {
        var latest = await ReadLatestCheckpointAsync(ledger, store, key, cancellationToken);
        return latest is null
            ? Problems.Of(StatusCodes.Status404NotFound, "No checkpoint has been signed yet; one is signed at least every Audit:CheckpointInterval.")
            : TypedResults.Ok(latest);
    }

    /// <summary>The newest checkpoint this server signed, as it is handed to witnesses; null before the first one.</summary>
    internal static async Task<AuditCheckpointDocument?> ReadLatestCheckpointAsync(
        AuditCheckpointLedger ledger, AuditStore store, AuditSigningKey key, CancellationToken cancellationToken)
    {
        AuditCheckpoint? stored;
        await using (var connection = await store.OpenAsync(cancellationToken))
        {
            stored = await AuditStore.ReadLatestCheckpointAsync(connection, cancellationToken);
        }

        // Note: the server serves what it signed; a stored row is used only when its signature verifies
        // and it is newer, so a row written into the database by someone else is never handed to a witness.
        var latest = ledger.LastSigned;
        if (stored is not null && key.Verify(stored)
            && (latest is null || stored.Sequence > latest.Sequence || (stored.Sequence == latest.Sequence && AuditTime.FromMicros(stored.TimestampMicros) > latest.Timestamp)))
        {
            latest = AuditCheckpointDocument.From(stored, key);
        }

        return latest;
    }

    private static async Task<Results<EmptyHttpResult, ValidationProblem>> ExportAsync(
        HttpContext context, AuditService audit, string? format, string? actor, string? action, string? project, DateTimeOffset? since, DateTimeOffset? until,
        CancellationToken cancellationToken)
    {
        // Note: every parameter is checked before the first byte, because once the stream has started no error can be answered.
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var parsed = AuditExportFormat.Jsonl;
        switch (format ?? "jsonl")
        {
            case "jsonl": break;
            case "csv": parsed = AuditExportFormat.Csv; break;
            default: errors["format"] = ["format must be jsonl or csv."]; break;
        }

        CheckFilters(errors, actor, action, project, since, until);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors, "The export has invalid parameters.");
        }

        context.Response.ContentType = parsed == AuditExportFormat.Csv ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8";
        await audit.ExportAsync(new AuditQuery(actor, action, project, Micros(since), Micros(until)), parsed, context.Response.Body, cancellationToken);
        return TypedResults.Empty;
    }

    private static Ok<AuditPublicKeyView> PublicKey(AuditSigningKey key) =>
        TypedResults.Ok(new AuditPublicKeyView(key.KeyId, "ES256", key.ExportPublicKeyPem()));

    private static async Task<Ok<AuditPurgeResult>> PurgeAsync(AuditPurgeRequest request, AuditService audit, AuditSigningKey key, IAuditLog log, HttpContext context, CancellationToken cancellationToken)
    {
        var result = await audit.PurgeAsync(key, cancellationToken);
        await log.AppendAsync(new AuditEntry(
            AuditActor.System, "audit.purged", new AuditResource("audit-log", null, null), AuditOutcome.Success, null, TraceIds.Current(context),
            new Dictionary<string, string>
            {
                ["removed"] = result.Removed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["anchor"] = result.AnchorSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none",
                ["retentionDays"] = result.RetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["requestedBy"] = context.User.FindFirst("preferred_username")?.Value ?? "unknown",
                ["reason"] = request.Reason,
            }), cancellationToken);
        return TypedResults.Ok(result);
    }

    /// <summary>The filters the search and the export share, checked alike.</summary>
    private static void CheckFilters(Dictionary<string, string[]> errors, string? actor, string? action, string? project, DateTimeOffset? since, DateTimeOffset? until)
    {
        CheckLength(errors, "actor", actor);
        CheckLength(errors, "action", action);
        CheckLength(errors, "project", project);
        if (since is not null && until is not null && since > until)
        {
            errors["until"] = ["until must not be before since."];
        }
    }

    private static void CheckLength(Dictionary<string, string[]> errors, string name, string? value)
    {
        if (value is { Length: > MaxFilterLength })
        {
            errors[name] = [$"{name} must be at most {MaxFilterLength} characters."];
        }
    }

    private static long? Micros(DateTimeOffset? time) => time is { } t ? AuditTime.ToMicros(t) : null;
}
