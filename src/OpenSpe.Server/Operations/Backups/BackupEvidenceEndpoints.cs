using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// <c>/api/v1/operations/backups</c>: the evidence of backups and restore drills, read from the audit log (operators and
/// auditors), and <c>POST …/drills</c> where an operator records a drill run with the offline secret key.
/// </summary>
internal static class BackupEvidenceEndpoints
{
    /// <summary>The audit action of a recorded restore drill.</summary>
    public const string DrillAction = "backup.drill";

    /// <summary>
    /// The detail of a drill record that says whether its backup is one this server recorded making (<c>backup.created</c>):
    /// <c>true</c> or <c>false</c>. Drill records written before it existed lack it.
    /// </summary>
    public const string MadeHereDetail = "madeHere";

    /// <summary>How many of the newest <c>backup.created</c> records a drill's backup is looked for in (the most <c>Backup:Keep</c> can keep).</summary>
    private const int BackupsSearched = 1000;

    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapBackupEvidenceEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/operations/backups").WithTags("Operations").RequireAuthorization(SpePolicies.OperationsReaders)
            .WithMetadata(new AuditResourceAttribute("backup")).ProducesSignedInProblems();
        group.MapGet("", ListAsync).WithName("backups.evidence")
            .WithSummary("Backups made, backups failed and restore drills recorded, newest first, with the last of each (operator, auditor).");
        group.MapPost("/drills", RecordDrillAsync).WithName("backups.drills.record").RequireAuthorization(SpePolicies.Operator).Validate<BackupDrillRecordRequest>()
            .WithSummary("Records the outcome of a restore drill ('spe backup verify --record'), run where the backup secret key is kept (operator).");
        return routes;
    }

    private static async Task<Results<Ok<BackupEvidenceView>, ValidationProblem>> ListAsync(AuditService audit, IOptions<BackupOptions> options, int? limit,
        CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return Problems.Invalid("limit", $"Must be between 1 and {MaxLimit}.");
        }

        // Note: each read is newest first and limited in SQL, so the cost does not grow with every backup and drill ever made.
        string[] all = [ScheduledBackups.CreatedAction, ScheduledBackups.FailedAction, ScheduledBackups.PrunedAction, DrillAction];
        var events = (await audit.QueryAsync(new AuditQuery(Actions: all, Limit: limit ?? DefaultLimit, NewestFirst: true), cancellationToken)).Select(View).ToList();
        var lastBackup = events.FirstOrDefault(e => e.Kind == "backup") ?? await LastAsync(audit, ScheduledBackups.CreatedAction, cancellationToken);
        var lastDrill = events.FirstOrDefault(e => e.Kind == "drill") ?? await LastAsync(audit, DrillAction, cancellationToken);
        return TypedResults.Ok(new BackupEvidenceView(options.Value.Interval, lastBackup, lastDrill, events));
    }

    /// <summary>The newest record of one action, for the "last of each" when the page did not hold one.</summary>
    private static async Task<BackupEventView?> LastAsync(AuditService audit, string action, CancellationToken cancellationToken) =>
        (await audit.QueryAsync(new AuditQuery(Action: action, Limit: 1, NewestFirst: true), cancellationToken)).Select(View).FirstOrDefault();

    private static async Task<Results<Created<BackupEventView>, ValidationProblem>> RecordDrillAsync(BackupDrillRecordRequest request, HttpContext context, IAuditLog audit,
        AuditService records, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!BackupNames.IsValid(request.Backup))
        {
            return Problems.Invalid("backup", "Must be the backup's directory name, without a path.");
        }

        if (request.BackupCreatedAt > time.GetUtcNow().AddMinutes(5))
        {
            return Problems.Invalid("backupCreatedAt", "Must not be in the future.");
        }

        if (Disagreements(request) is { Count: > 0 } disagreements)
        {
            return Problems.Invalid(disagreements, "The drill's outcome (passed) disagrees with what it reports.");
        }

        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["auditRecords"] = request.AuditRecords.ToString(CultureInfo.InvariantCulture),
            ["readyStatus"] = request.ReadyStatus.ToString(CultureInfo.InvariantCulture),
        };
        if (request.BackupCreatedAt is { } createdAt)
        {
            details["backupCreatedAt"] = createdAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        }

        if (!string.IsNullOrWhiteSpace(request.Problem))
        {
            details["problem"] = request.Problem;
        }

        // Note: the server cannot run the drill (the key is offline), so its outcome is the operator's word. What the server can
        // say is whether the backup named is one it made: a drill of a backup it never recorded (a manual one, or a name made
        // up) is kept and shown as such, and does not clear restore-drill-overdue while the server makes backups of its own.
        var made = (await records.QueryAsync(new AuditQuery(Action: ScheduledBackups.CreatedAction, Limit: BackupsSearched, NewestFirst: true), cancellationToken))
            .FirstOrDefault(r => r.Outcome == "success" && string.Equals(r.ResourceId, request.Backup, StringComparison.Ordinal));
        details[MadeHereDetail] = made is null ? "false" : "true";

        var entry = new AuditEntry(AuditActors.From(context.User, context), DrillAction, new AuditResource("backup", request.Backup, null),
            request.Passed ? AuditOutcome.Success : AuditOutcome.Error, null, null, details);
        var sequence = await audit.AppendAsync(entry, cancellationToken);
        var view = new BackupEventView(sequence, time.GetUtcNow(), "drill", request.Backup, request.Passed ? "success" : "error", entry.Actor.Username ?? entry.Actor.SubjectId ?? "",
            details);
        return TypedResults.Created($"/api/v1/operations/backups?limit=1", view);
    }

    /// <summary>The fields that contradict the drill's <c>passed</c>, each with what it must be.</summary>
    private static Dictionary<string, string[]> Disagreements(BackupDrillRecordRequest request)
    {
        // Note: a drill is evidence an auditor relies on (and a passed one silences restore-drill-overdue), so its outcome must
        // follow from its own facts because otherwise "passed" could be recorded for a server that never became ready. The
        // facts are those 'spe backup verify' reports: a pass is a verified chain (a data directory that started once holds
        // at least its server.started record), /readyz 200 and no problem; a failure names a problem or a status other than 200.
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var hasProblem = !string.IsNullOrWhiteSpace(request.Problem);
        if (request.Passed)
        {
            if (request.ReadyStatus != 200)
            {
                errors["readyStatus"] = ["Must be 200 for a passed drill: the restored server answered /readyz 200."];
            }

            if (request.AuditRecords < 1)
            {
                errors["auditRecords"] = ["Must be at least 1 for a passed drill: the restored audit chain was verified, and it holds the server's start record."];
            }

            if (hasProblem)
            {
                errors["problem"] = ["Must be empty for a passed drill."];
            }

            if (request.BackupCreatedAt is null)
            {
                errors["backupCreatedAt"] = ["Must be the backup manifest's time for a passed drill: its manifest was read."];
            }
        }
        else if (!hasProblem && request.ReadyStatus == 200)
        {
            errors["problem"] = ["Must say what failed for a drill that did not pass (or readyStatus must be the /readyz status other than 200)."];
        }

        return errors;
    }

    private static BackupEventView View(AuditRow row)
    {
        var details = JsonSerializer.Deserialize<Dictionary<string, string>>(row.DetailsJson) ?? [];
        var kind = row.Action switch
        {
            ScheduledBackups.CreatedAction => "backup",
            ScheduledBackups.FailedAction => "backup-failed",
            ScheduledBackups.PrunedAction => "backup-pruned",
            _ => "drill",
        };
        return new BackupEventView(row.Sequence, AuditTime.FromMicros(row.TimestampMicros), kind, row.ResourceId ?? "", row.Outcome, row.ActorUsername ?? row.ActorSubject ?? "",
            details);
    }
}

/// <summary>Backup names as they travel: a directory name, never a path.</summary>
internal static class BackupNames
{
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 128 && name is not ("." or "..") && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
