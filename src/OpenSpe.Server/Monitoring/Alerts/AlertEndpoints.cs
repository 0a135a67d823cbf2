using System.Globalization;
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
using OpenSpe.Server.Operations.Incidents;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// <c>/api/v1/alerts</c> (EHDSR-9, TIR-13, OPR-18): the fired alerts, open or acknowledged. Operators (with MFA) list,
/// acknowledge with a note and open an incident from an alert in one step; auditors read. Everyone else gets 403.
/// </summary>
internal static partial class AlertEndpoints
{
    private const int DefaultPage = 100;
    private const int MaxPage = 500;
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Maps the alert endpoints.</summary>
    public static IEndpointRouteBuilder MapAlertEndpoints(this IEndpointRouteBuilder routes)
    {
        // Note: deny by default: the group requires operator or auditor; each change requires operator on top.
        var group = routes.MapGroup("/api/v1/alerts").WithTags("Monitoring").RequireAuthorization(SpePolicies.OperationsReaders)
            .WithMetadata(new AuditResourceAttribute("alert")).ProducesSignedInProblems();
        group.MapGet("", ListAsync).WithName("alerts.list").ProducesProblems(400).WithSummary("Fired alerts, newest first, a page at a time (limit 1-500, default 100; before = the previous page's nextBefore); state=open for those not yet acknowledged.");
        group.MapGet("/rules", Rules).WithName("alerts.rules").WithSummary("The alert rules in force: the shipped defaults not switched off and the operator's own (Alerts:Rules).");
        group.MapPost("/{id}/acknowledge", AcknowledgeAsync).WithName("alerts.acknowledge").RequireAuthorization(SpePolicies.Operator).Validate<AlertAcknowledgeRequest>()
            .ProducesProblems(403, 404, 409).WithSummary("Acknowledges an alert with a note (operator; not one about their own account); audited.");
        group.MapPost("/{id}/incident", OpenIncidentAsync).WithName("alerts.incident").RequireAuthorization(SpePolicies.Operator).Validate<AlertIncidentRequest>()
            .ProducesProblems(404, 409).WithSummary("Opens an incident from an alert (operator): detected when the alert fired, naming the alert's project; linked both ways.");
        return routes;
    }

    private static async Task<Results<Ok<AlertPage>, ValidationProblem>> ListAsync(string? state, string? limit, string? before, SpeDbContext database,
        CancellationToken cancellationToken)
    {
        // Note: limit is read as text so that a non-number is this endpoint's own 400 with the field named, like every other check here.
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (state is not (null or AlertStates.Open or AlertStates.Acknowledged))
        {
            errors["state"] = ["Must be open or acknowledged."];
        }

        var pageSize = DefaultPage;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPage))
        {
            errors["limit"] = [$"Must be a whole number from 1 to {MaxPage}."];
        }

        if (before is not null && !IsAlertId(before))
        {
            errors["before"] = ["Must be the id of an alert (alt-...), as nextBefore gave it."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors, "The query has invalid parameters.");
        }

        var query = database.Set<AlertEntity>().AsNoTracking();
        if (state is not null)
        {
            query = query.Where(a => a.State == state);
        }

        if (before is not null)
        {
            // Note: the cursor is the last alert of the previous page; the next page starts after it in (fired, id) order, so
            // alerts fired meanwhile (newer) do not shift the pages that follow.
            var anchor = await database.Set<AlertEntity>().AsNoTracking().Where(a => a.Id == before).Select(a => new { a.FiredAtMicros, a.Id }).FirstOrDefaultAsync(cancellationToken);
            if (anchor is null)
            {
                return Problems.Invalid("before", "There is no such alert.");
            }

            query = query.Where(a => a.FiredAtMicros < anchor.FiredAtMicros || (a.FiredAtMicros == anchor.FiredAtMicros && string.Compare(a.Id, anchor.Id) < 0));
        }

        // Note: ordered and limited in the database (one row past the page tells whether there is a next one), never the whole table in memory.
        var rows = await query.OrderByDescending(a => a.FiredAtMicros).ThenByDescending(a => a.Id).Take(pageSize + 1).ToListAsync(cancellationToken);
        var items = rows.Take(pageSize).Select(View).ToList();
        return TypedResults.Ok(new AlertPage(items, rows.Count > pageSize ? items[^1].Id : null));
    }

    private static Ok<List<AlertRuleView>> Rules(Microsoft.Extensions.Options.IOptions<AlertOptions> options) =>
        TypedResults.Ok(options.Value.InForce().Select(r => new AlertRuleView(r.Name, r.Check == AlertCheck.None ? null : r.Check.ToString(),
            r.Check == AlertCheck.None ? r.Action : null, r.Check == AlertCheck.None ? r.Outcome : null, r.GroupBy.ToString().ToLowerInvariant(), r.Threshold, r.Window,
            r.Description)).ToList());

    /// <summary>Alert ids as they travel: <c>alt-</c> and lower-case hex, at most 64 characters.</summary>
    private static bool IsAlertId(string id) => id.Length is > 4 and <= 64 && id.StartsWith("alt-", StringComparison.Ordinal) && !id.AsSpan(4).ContainsAnyExcept(HexDigits);

    private static async Task<Results<Ok<AlertView>, ProblemHttpResult>> AcknowledgeAsync(string id, AlertAcknowledgeRequest request, HttpContext context, SpeDbContext database,
        TimeProvider time, IAuditLog audit, ILogger<AlertDispatcher> logger, CancellationToken cancellationToken)
    {
        if (await database.Set<AlertEntity>().FirstOrDefaultAsync(a => a.Id == id, cancellationToken) is not { } alert)
        {
            return NotFound();
        }

        if (alert.State == AlertStates.Acknowledged)
        {
            return Problems.Of(409, $"The alert was already acknowledged by {alert.AcknowledgedBy}.", ErrorCodes.AlertAlreadyAcknowledged);
        }

        // Note: acknowledging silences an alert, so an operator whose own account it is about (failed sign-ins, a day's downloads)
        // leaves it to another operator; opening an incident from it stays open to them, because that escalates.
        if (IsAbout(alert, context))
        {
            return Problems.Of(403, "This alert is about your own account: another operator acknowledges it.", ErrorCodes.AlertAboutSelf);
        }

        alert.State = AlertStates.Acknowledged;
        alert.AcknowledgedAt = time.GetUtcNow();
        alert.AcknowledgedBy = UserName(context);
        alert.Note = request.Note;
        alert.Revision = Guid.NewGuid();
        if (await SaveAsync(database, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        LogAcknowledged(logger, alert.Id, alert.Rule, alert.AcknowledgedBy);
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "alert.acknowledged", new AuditResource("alert", alert.Id, alert.ProjectId), AuditOutcome.Success,
            null, TraceIds.Current(context), new Dictionary<string, string>(StringComparer.Ordinal) { ["rule"] = alert.Rule, ["key"] = alert.Key }), cancellationToken);
        return TypedResults.Ok(View(alert));
    }

    private static async Task<Results<Created<AlertView>, ValidationProblem, ProblemHttpResult>> OpenIncidentAsync(string id, AlertIncidentRequest request, HttpContext context,
        SpeDbContext database, TimeProvider time, IAuditLog audit, ILogger<AlertDispatcher> logger, CancellationToken cancellationToken)
    {
        if (!IncidentSeverities.All.Contains(request.Severity))
        {
            return Problems.Invalid("severity", "Must be low, medium, high or critical.");
        }

        if (await database.Set<AlertEntity>().FirstOrDefaultAsync(a => a.Id == id, cancellationToken) is not { } alert)
        {
            return NotFound();
        }

        if (alert.IncidentId is { } existing)
        {
            return Problems.Of(409, $"Incident {existing} was already opened from this alert.", ErrorCodes.AlertIncidentExists);
        }

        var affected = new List<IncidentAffectedView>();
        if (alert.ProjectId is { } projectId
            && await database.Permits.Where(p => p.ProjectId == projectId).Select(p => p.Id).FirstOrDefaultAsync(cancellationToken) is { } permitId)
        {
            affected.Add(new IncidentAffectedView(projectId, permitId));
        }

        var now = time.GetUtcNow();
        var by = UserName(context);
        var incident = new IncidentEntity
        {
            Id = "inc-" + Guid.NewGuid().ToString("N")[..16],
            Title = request.Title ?? Truncate($"Alert {alert.Rule}: {alert.Key}", 200),
            Description = Truncate($"Opened from alert {alert.Id} ({alert.Rule}, {alert.GroupBy} {alert.Key}, value {alert.Value.ToString(CultureInfo.InvariantCulture)}"
                + $" at threshold {alert.Threshold.ToString(CultureInfo.InvariantCulture)}). {alert.Description}", 8000),
            Severity = request.Severity,
            // Note: the HDAB clock runs from detection, and the alert is when the SPE detected it, not when someone looked.
            DetectedAt = alert.FiredAt,
            OpenedAt = now,
            OpenedBy = by,
            AffectedJson = IncidentStore.AffectedJson(affected),
            Revision = Guid.NewGuid(),
        };
        database.Add(incident);
        database.Add(new IncidentEventEntity { IncidentId = incident.Id, Kind = IncidentEventKinds.FromAlert, At = now, By = by, Note = alert.Id });
        alert.IncidentId = incident.Id;
        alert.Revision = Guid.NewGuid();
        if (await SaveAsync(database, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        LogIncidentOpened(logger, alert.Id, incident.Id, incident.Severity);
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "incident.opened", new AuditResource("incident", incident.Id, null), AuditOutcome.Success,
            null, TraceIds.Current(context), new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["incident"] = incident.Id,
                ["alert"] = alert.Id,
                ["severity"] = incident.Severity,
                ["detectedAt"] = incident.DetectedAt.ToString("O", CultureInfo.InvariantCulture),
                ["projects"] = string.Join(",", affected.Select(a => a.ProjectId)),
            }), cancellationToken);
        return TypedResults.Created($"/api/v1/incidents/{incident.Id}", View(alert));
    }

    /// <summary>The view of a stored alert.</summary>
    public static AlertView View(AlertEntity a) => new(a.Id, a.Rule, a.GroupBy, a.Key, a.Value, a.Threshold, a.WindowSeconds, a.FiredAt, a.Description, a.ProjectId, a.AuditSequence,
        a.State, a.AcknowledgedAt, a.AcknowledgedBy, a.Note, a.IncidentId);

    private static async Task<ProblemHttpResult?> SaveAsync(SpeDbContext database, CancellationToken cancellationToken)
    {
        try
        {
            await database.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Of(409, "The alert changed meanwhile; read it again.", ErrorCodes.AlertChanged);
        }
    }

    private static ProblemHttpResult NotFound() => Problems.Of(404, "There is no such alert.");

    private static string Truncate(string text, int length) => text.Length > length ? text[..length] : text;

    private static bool IsAbout(AlertEntity alert, HttpContext context) =>
        string.Equals(alert.GroupBy, "account", StringComparison.Ordinal)
        && (string.Equals(alert.Key, context.User.FindFirst("preferred_username")?.Value, StringComparison.OrdinalIgnoreCase)
            || string.Equals(alert.Key, context.User.FindFirst("sub")?.Value, StringComparison.Ordinal));

    private static string UserName(HttpContext context) => context.User.FindFirst("preferred_username")?.Value ?? context.User.FindFirst("sub")?.Value ?? "";

    [LoggerMessage(EventId = 23010, Level = LogLevel.Information, Message = "SPE23010 alert {AlertId} ({Rule}) acknowledged by {By}")]
    private static partial void LogAcknowledged(ILogger logger, string alertId, string rule, string by);

    [LoggerMessage(EventId = 23011, Level = LogLevel.Warning, Message = "SPE23011 alert {AlertId} opened incident {IncidentId} (severity {Severity})")]
    private static partial void LogIncidentOpened(ILogger logger, string alertId, string incidentId, string severity);
}
