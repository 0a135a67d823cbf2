using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Operations.Incidents;

/// <summary>Reads incidents as a caller may see them, and turns rows into views with the HDAB clock as of now.</summary>
internal sealed class IncidentStore(SpeDbContext database, PermitService permits, TimeProvider time, Microsoft.Extensions.Options.IOptions<IncidentReminderOptions> reminders)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The database (handlers add rows through it).</summary>
    public SpeDbContext Database => database;

    /// <summary>
    /// The incidents <paramref name="user"/> may read: operators and auditors all of them; HDAB officers those that name no
    /// project (the whole SPE) or a permit they can see.
    /// </summary>
    public async Task<List<IncidentEntity>> VisibleAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var all = await database.Set<IncidentEntity>().ToListAsync(cancellationToken);
        if (user.IsInRole(SpeRoles.Operator) || user.IsInRole(SpeRoles.Auditor))
        {
            return all;
        }

        // Note: an HDAB officer's view follows permit visibility, so an officer sees exactly the incidents about permits
        // they oversee, and nothing about others'.
        var visible = (await permits.VisibleAsync(ProjectAccessSetup.PrincipalOf(user), cancellationToken)).Select(p => p.Permit.Id).ToHashSet(StringComparer.Ordinal);
        return [.. all.Where(i => Affected(i) is var affected && (affected.Count == 0 || affected.Any(a => visible.Contains(a.PermitId))))];
    }

    /// <summary>The incident if the caller may read it, else null (as for one that does not exist).</summary>
    public async Task<IncidentEntity?> FindVisibleAsync(string id, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        (await VisibleAsync(user, cancellationToken)).FirstOrDefault(i => i.Id == id);

    /// <summary>The incident's events in order.</summary>
    public async Task<List<IncidentEventEntity>> EventsAsync(string id, CancellationToken cancellationToken) =>
        await database.Set<IncidentEventEntity>().Where(e => e.IncidentId == id).OrderBy(e => e.Id).ToListAsync(cancellationToken);

    /// <summary>The view of an incident with its clock as of now.</summary>
    public async Task<IncidentView> ViewAsync(IncidentEntity incident, CancellationToken cancellationToken)
    {
        var events = await EventsAsync(incident.Id, cancellationToken);
        return View(incident, events);
    }

    /// <summary>Views of several incidents, newest detection first.</summary>
    public async Task<List<IncidentView>> ViewsAsync(IEnumerable<IncidentEntity> incidents, CancellationToken cancellationToken)
    {
        var list = incidents.ToList();
        var ids = list.Select(i => i.Id).ToList();
        var events = (await database.Set<IncidentEventEntity>().Where(e => ids.Contains(e.IncidentId)).ToListAsync(cancellationToken)).ToLookup(e => e.IncidentId);
        return [.. list.OrderByDescending(i => i.DetectedAt).Select(i => View(i, events[i.Id].OrderBy(e => e.Id).ToList()))];
    }

    /// <summary>The projects an incident affects.</summary>
    public static List<IncidentAffectedView> Affected(IncidentEntity incident) =>
        JsonSerializer.Deserialize<List<IncidentAffectedView>>(incident.AffectedJson, Json) ?? [];

    /// <summary>Serialises affected projects for <see cref="IncidentEntity.AffectedJson"/>.</summary>
    public static string AffectedJson(IReadOnlyList<IncidentAffectedView> affected) => JsonSerializer.Serialize(affected, Json);

    private IncidentView View(IncidentEntity incident, List<IncidentEventEntity> events)
    {
        // Note: a closed incident's clock stopped at its closing: nothing can be recorded on it afterwards.
        var deadlines = IncidentClock.Deadlines(incident.DetectedAt, events, incident.ClosedAt ?? time.GetUtcNow(), reminders.Value);
        var notifications = events.Where(e => e.Kind == IncidentEventKinds.Notification)
            .Select(e => new IncidentNotificationView(e.Stage!, e.Recipient!, e.At, e.ContentSha256!, e.By, e.Content ?? "", e.RecordedAt)).ToList();
        var history = events.Select(e => new IncidentEventView(e.Kind, e.At, e.By, e.Kind switch
        {
            IncidentEventKinds.Notification => $"{e.Stage} to {e.Recipient}",
            IncidentEventKinds.Reminder => $"{e.Stage} due soon (alert {e.Note})",
            IncidentEventKinds.OverdueAlert => $"{e.Stage} overdue (alert {e.Note})",
            _ => e.Note,
        })).ToList();
        return new IncidentView(incident.Id, incident.Title, incident.Description, incident.Severity, incident.State, incident.DetectedAt, incident.OpenedAt, incident.OpenedBy,
            Affected(incident), deadlines, deadlines.Any(d => d.Status == IncidentClock.Overdue), incident.ClosedAt, notifications, history);
    }
}
