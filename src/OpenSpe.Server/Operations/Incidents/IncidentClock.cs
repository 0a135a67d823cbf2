namespace OpenSpe.Server.Operations.Incidents;

/// <summary>
/// The HDAB clock of OPR-19, computed from the detection time and the notifications recorded, at the time asked: each
/// stage is <c>sent</c>, <c>sent-late</c>, <c>pending</c> or, once its deadline has passed unsent, <c>overdue</c>; a pending
/// stage within its reminder lead (<see cref="IncidentReminderOptions"/>) is due soon.
/// </summary>
internal static class IncidentClock
{
    public const string Pending = "pending";
    public const string Overdue = "overdue";
    public const string Sent = "sent";
    public const string SentLate = "sent-late";

    /// <summary>The deadlines of an incident as of <paramref name="now"/>.</summary>
    public static List<IncidentDeadlineView> Deadlines(DateTimeOffset detectedAt, IEnumerable<IncidentEventEntity> events, DateTimeOffset now, IncidentReminderOptions reminders)
    {
        var notifications = events.Where(e => e.Kind == IncidentEventKinds.Notification).ToList();
        return [.. IncidentStages.All.Select(stage =>
        {
            var due = IncidentStages.DueAt(stage, detectedAt);
            var first = notifications.Where(n => n.Stage == stage).OrderBy(n => n.At).FirstOrDefault();
            var status = first is not null
                ? first.At <= due ? Sent : SentLate
                : now > due ? Overdue : Pending;
            var remindAt = due - reminders.LeadOf(stage);
            return new IncidentDeadlineView(stage, due, status, first?.At, remindAt, status == Pending && now >= remindAt);
        })];
    }
}
