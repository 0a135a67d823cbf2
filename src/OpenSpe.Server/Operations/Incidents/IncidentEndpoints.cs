using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Operations.Incidents;

/// <summary>
/// <c>/api/v1/incidents</c> (OPR-18, OPR-19, OPR-20): operators record incidents with their detection time and affected
/// projects, the notifications sent to the HDAB on the 24 h / 72 h / one-month clock, updates, a one-step halt of the
/// affected projects, and the closing. Operators and auditors read all; HDAB officers read those affecting their permits.
/// </summary>
internal static class IncidentEndpoints
{
    /// <summary>How far ahead of the server's clock a reported time may be (clock skew), and how far back a detection may be.</summary>
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan OldestDetection = TimeSpan.FromDays(366);

    /// <summary>Maps the incident endpoints.</summary>
    public static IEndpointRouteBuilder MapIncidentEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/incidents").WithTags("Operations").RequireAuthorization(SpePolicies.IncidentReaders)
            .WithMetadata(new AuditResourceAttribute("incident")).ProducesSignedInProblems();
        group.MapPost("", OpenAsync).WithName("incidents.open").RequireAuthorization(SpePolicies.Operator).Validate<IncidentOpenRequest>().ProducesProblems(422)
            .WithSummary("Records an incident (operator): severity, detection time (the HDAB clock starts there), affected projects.");
        group.MapGet("", ListAsync).WithName("incidents.list").WithSummary("Incidents the caller may read, with their deadlines and overdue state.");
        group.MapGet("/{id}", ShowAsync).WithName("incidents.show").ProducesProblems(404).WithSummary("An incident with its notifications and history.");
        group.MapPost("/{id}/updates", UpdateAsync).WithName("incidents.update").RequireAuthorization(SpePolicies.Operator).Validate<IncidentUpdateRequest>().ProducesProblems(404, 409)
            .WithSummary("Adds a note, optionally changing severity or state (open, contained).");
        group.MapPost("/{id}/notifications", NotifyAsync).WithName("incidents.notify").RequireAuthorization(SpePolicies.Operator).Validate<IncidentNotifyRequest>().ProducesProblems(404, 409)
            .WithSummary("Records a notification sent to the HDAB (stage, recipient, time, content SHA-256).");
        group.MapPost("/{id}/halt", HaltAsync).WithName("incidents.halt").RequireAuthorization(SpePolicies.Operator).Validate<IncidentHaltRequest>().ProducesProblems(404, 409)
            .WithSummary("Halts every affected project in one step (OPR-20).");
        group.MapPost("/{id}/close", CloseAsync).WithName("incidents.close").RequireAuthorization(SpePolicies.Operator).Validate<IncidentCloseRequest>().ProducesProblems(404, 409)
            .WithSummary("Closes the incident; refused until its final report was recorded.");
        return routes;
    }

    private static async Task<Results<Created<IncidentView>, ValidationProblem, ProblemHttpResult>> OpenAsync(IncidentOpenRequest request, HttpContext context, IncidentStore store, TimeProvider time,
        IAuditLog audit, ILogger<IncidentStore> logger, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var detectedAt = request.DetectedAt ?? now;
        if (!IncidentSeverities.All.Contains(request.Severity))
        {
            return Problems.Invalid("severity", "Must be low, medium, high or critical.");
        }

        if (detectedAt > now + Skew || detectedAt < now - OldestDetection)
        {
            return Problems.Invalid("detectedAt", "Must not be in the future nor more than a year ago.");
        }

        var projectIds = (request.ProjectIds ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (projectIds.Any(p => !ProjectIds.IsValid(p)))
        {
            return Problems.Invalid("projectIds", "Each must be a project id.");
        }

        var permits = await store.Database.Permits.Where(p => projectIds.Contains(p.ProjectId)).Select(p => new { p.ProjectId, p.Id }).ToListAsync(cancellationToken);
        if (projectIds.FirstOrDefault(p => permits.All(x => x.ProjectId != p)) is { } unknown)
        {
            return Problems.Of(422, $"There is no project {unknown}.", ErrorCodes.IncidentUnknownProject);
        }

        var incident = new IncidentEntity
        {
            Id = "inc-" + Guid.NewGuid().ToString("N")[..16],
            Title = request.Title,
            Description = request.Description,
            Severity = request.Severity,
            DetectedAt = detectedAt,
            OpenedAt = now,
            OpenedBy = UserName(context),
            AffectedJson = IncidentStore.AffectedJson([.. projectIds.Select(p => new IncidentAffectedView(p, permits.First(x => x.ProjectId == p).Id))]),
            Revision = Guid.NewGuid(),
        };
        store.Database.Add(incident);
        await store.Database.SaveChangesAsync(cancellationToken);
        IncidentLog.Opened(logger, incident.Id, incident.Severity, detectedAt, projectIds.Count);
        await AuditAsync(audit, context, "incident.opened", incident, new()
        {
            ["severity"] = incident.Severity,
            ["detectedAt"] = detectedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["projects"] = string.Join(",", projectIds),
        });
        return TypedResults.Created($"/api/v1/incidents/{incident.Id}", await store.ViewAsync(incident, cancellationToken));
    }

    private static async Task<Ok<List<IncidentView>>> ListAsync(HttpContext context, IncidentStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ViewsAsync(await store.VisibleAsync(context.User, cancellationToken), cancellationToken));

    private static async Task<Results<Ok<IncidentView>, ProblemHttpResult>> ShowAsync(string id, HttpContext context, IncidentStore store, CancellationToken cancellationToken) =>
        await store.FindVisibleAsync(id, context.User, cancellationToken) is { } incident
            ? TypedResults.Ok(await store.ViewAsync(incident, cancellationToken))
            : NotFound();

    private static async Task<Results<Ok<IncidentView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(string id, IncidentUpdateRequest request, HttpContext context, IncidentStore store,
        TimeProvider time, IAuditLog audit, CancellationToken cancellationToken)
    {
        if (request.Severity is not null && !IncidentSeverities.All.Contains(request.Severity))
        {
            return Problems.Invalid("severity", "Must be low, medium, high or critical.");
        }

        if (request.State is not null && !IncidentStates.Settable.Contains(request.State))
        {
            return Problems.Invalid("state", "Must be open or contained (close the incident with its own step).");
        }

        if (await OpenIncidentAsync(id, context, store, cancellationToken) is not { } incident)
        {
            return await ClosedOrMissingAsync(id, context, store, cancellationToken);
        }

        incident.Severity = request.Severity ?? incident.Severity;
        incident.State = request.State ?? incident.State;
        var changes = new List<string>();
        if (request.Severity is not null)
        {
            changes.Add("severity " + request.Severity);
        }

        if (request.State is not null)
        {
            changes.Add("state " + request.State);
        }

        var note = changes.Count == 0 ? request.Note : $"{request.Note} ({string.Join(", ", changes)})";
        if (await SaveWithEventAsync(store, incident, IncidentEventKinds.Update, time, context, e => e.Note = note, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        await AuditAsync(audit, context, "incident.updated", incident, new() { ["severity"] = incident.Severity, ["state"] = incident.State });
        return TypedResults.Ok(await store.ViewAsync(incident, cancellationToken));
    }

    private static async Task<Results<Created<IncidentView>, ValidationProblem, ProblemHttpResult>> NotifyAsync(string id, IncidentNotifyRequest request, HttpContext context, IncidentStore store,
        TimeProvider time, IAuditLog audit, ILogger<IncidentStore> logger, CancellationToken cancellationToken)
    {
        if (!IncidentStages.All.Contains(request.Stage))
        {
            return Problems.Invalid("stage", "Must be early-warning, detailed or final.");
        }

        if (await OpenIncidentAsync(id, context, store, cancellationToken) is not { } incident)
        {
            return await ClosedOrMissingAsync(id, context, store, cancellationToken);
        }

        var now = time.GetUtcNow();
        var sentAt = request.SentAt ?? now;
        if (sentAt > now + Skew || sentAt < incident.DetectedAt)
        {
            return Problems.Invalid("sentAt", "Must lie between the detection time and now.");
        }

        // Note: the content's SHA-256 is what lets the HDAB show that the notification it holds is the one recorded here.
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(request.Content)));
        if (await SaveWithEventAsync(store, incident, IncidentEventKinds.Notification, time, context, e =>
        {
            e.At = sentAt;
            e.Stage = request.Stage;
            e.Recipient = request.Recipient;
            e.ContentSha256 = sha256;
            e.Content = request.Content;
        }, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        var view = await store.ViewAsync(incident, cancellationToken);
        var status = view.Deadlines.First(d => d.Stage == request.Stage).Status;
        IncidentLog.Notified(logger, incident.Id, request.Stage, request.Recipient, sha256, status);
        await AuditAsync(audit, context, "incident.notified", incident, new()
        {
            ["stage"] = request.Stage,
            ["recipient"] = request.Recipient,
            ["sentAt"] = sentAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["contentSha256"] = sha256,
            ["deadline"] = status,
        });
        return TypedResults.Created($"/api/v1/incidents/{incident.Id}", view);
    }

    private static async Task<Results<Ok<IncidentHaltView>, ProblemHttpResult>> HaltAsync(string id, IncidentHaltRequest request, HttpContext context, IncidentStore store, HaltRegistry halts,
        TimeProvider time, IAuditLog audit, ILogger<IncidentStore> logger, CancellationToken cancellationToken)
    {
        if (await OpenIncidentAsync(id, context, store, cancellationToken) is not { } incident)
        {
            return await ClosedOrMissingAsync(id, context, store, cancellationToken);
        }

        var projects = IncidentStore.Affected(incident).Select(a => a.ProjectId).ToList();
        if (projects.Count == 0)
        {
            return Problems.Of(409, "The incident names no project; to halt everything use the halts endpoint (spe halt --all).", ErrorCodes.IncidentNothingToHalt);
        }

        // Note: a project already halted is not halted again, so a repeated step (a double click, a retry after a lost answer) starts
        // no second halt and raises no second emergency-halt alert; the answer lists the halts in force either way.
        var inForce = await store.Database.Halts.Where(h => h.ResumedAt == null && h.ProjectId != null && projects.Contains(h.ProjectId)).ToListAsync(cancellationToken);
        var toHalt = projects.Where(p => inForce.All(h => h.ProjectId != p)).ToList();
        if (toHalt.Count == 0)
        {
            return TypedResults.Ok(new IncidentHaltView([.. inForce.Select(h => h.Id)], projects));
        }

        // Note: one step for the operator, but each project gets a halt of its own, lifted by the halts' two-person rule.
        var started = await HaltEndpoints.StartAsync([.. toHalt], $"incident {incident.Id}: {request.Reason}", context, store.Database, halts, time, audit);
        if (await SaveWithEventAsync(store, incident, IncidentEventKinds.Halt, time, context, e => e.Note = string.Join(",", toHalt), cancellationToken) is { } conflict)
        {
            return conflict;
        }

        IncidentLog.Halted(logger, incident.Id, toHalt.Count);
        await AuditAsync(audit, context, "incident.halted", incident, new() { ["halts"] = string.Join(",", started.Select(h => h.Id)), ["projects"] = string.Join(",", toHalt) });
        return TypedResults.Ok(new IncidentHaltView([.. inForce.Concat(started).Select(h => h.Id)], projects));
    }

    private static async Task<Results<Ok<IncidentView>, ProblemHttpResult>> CloseAsync(string id, IncidentCloseRequest request, HttpContext context, IncidentStore store, TimeProvider time,
        IAuditLog audit, ILogger<IncidentStore> logger, CancellationToken cancellationToken)
    {
        if (await OpenIncidentAsync(id, context, store, cancellationToken) is not { } incident)
        {
            return await ClosedOrMissingAsync(id, context, store, cancellationToken);
        }

        var sent = (await store.EventsAsync(incident.Id, cancellationToken)).Where(e => e.Kind == IncidentEventKinds.Notification).Select(e => e.Stage).ToHashSet(StringComparer.Ordinal);
        if (IncidentStages.All.Where(s => !sent.Contains(s)).ToList() is { Count: > 0 } missing)
        {
            // Note: an incident cannot leave the books before the HDAB had every notification OPR-19 asks for: a closed
            // incident records nothing more, so a stage missing at the close could never be recorded afterwards.
            return Problems.Of(409, $"Record the {string.Join(", ", missing)} notification(s) to the HDAB before closing the incident: each of early-warning, detailed and final must be sent and recorded.",
                ErrorCodes.IncidentFinalReportMissing);
        }

        incident.State = IncidentStates.Closed;
        incident.ClosedAt = time.GetUtcNow();
        if (await SaveWithEventAsync(store, incident, IncidentEventKinds.Close, time, context, e => e.Note = request.Summary, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        IncidentLog.Closed(logger, incident.Id);
        await AuditAsync(audit, context, "incident.closed", incident, []);
        return TypedResults.Ok(await store.ViewAsync(incident, cancellationToken));
    }

    /// <summary>The incident if it exists, the caller may see it and it is not closed.</summary>
    private static async Task<IncidentEntity?> OpenIncidentAsync(string id, HttpContext context, IncidentStore store, CancellationToken cancellationToken) =>
        await store.FindVisibleAsync(id, context.User, cancellationToken) is { State: not IncidentStates.Closed } incident ? incident : null;

    private static async Task<ProblemHttpResult> ClosedOrMissingAsync(string id, HttpContext context, IncidentStore store, CancellationToken cancellationToken) =>
        await store.FindVisibleAsync(id, context.User, cancellationToken) is null
            ? NotFound()
            : Problems.Of(409, "The incident is closed; nothing more is recorded on it.", ErrorCodes.IncidentClosed);

    private static ProblemHttpResult NotFound() => Problems.Of(404, "There is no such incident.");

    /// <summary>Saves the incident's change and one event in one commit; a concurrent change by another operator is a 409.</summary>
    private static async Task<ProblemHttpResult?> SaveWithEventAsync(IncidentStore store, IncidentEntity incident, string kind, TimeProvider time, HttpContext context, Action<IncidentEventEntity> fill,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var entry = new IncidentEventEntity { IncidentId = incident.Id, Kind = kind, At = now, RecordedAt = now, By = UserName(context) };
        fill(entry);
        incident.Revision = Guid.NewGuid();
        store.Database.Add(entry);
        try
        {
            await store.Database.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Of(409, "The incident changed meanwhile; read it again.", ErrorCodes.IncidentChanged);
        }
    }

    private static string UserName(HttpContext context) => context.User.FindFirst("preferred_username")?.Value ?? context.User.FindFirst("sub")?.Value ?? "";

    private static Task<long> AuditAsync(IAuditLog audit, HttpContext context, string action, IncidentEntity incident, Dictionary<string, string> details)
    {
        details["incident"] = incident.Id;
        return audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), action, new AuditResource("incident", incident.Id, null), AuditOutcome.Success, null,
            TraceIds.Current(context), details));
    }
}
