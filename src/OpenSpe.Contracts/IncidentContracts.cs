using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>Records a security incident or non-compliance finding (OPR-18); the HDAB clock runs from <see cref="DetectedAt"/> (now when absent).</summary>
public sealed record IncidentOpenRequest(
    [property: Required, StringLength(200, MinimumLength = 3)] string Title,
    [property: Required, StringLength(8000, MinimumLength = 3)] string Description,
    [property: Required, StringLength(16)] string Severity,
    DateTimeOffset? DetectedAt = null,
    [property: MaxLength(100)] IReadOnlyList<string>? ProjectIds = null);

/// <summary>Adds a note to an incident, optionally changing its severity or state (<c>open</c>, <c>contained</c>).</summary>
public sealed record IncidentUpdateRequest(
    [property: Required, StringLength(8000, MinimumLength = 3)] string Note,
    [property: StringLength(16)] string? Severity = null,
    [property: StringLength(16)] string? State = null);

/// <summary>Records a notification sent to the HDAB: its stage (<c>early-warning</c>, <c>detailed</c>, <c>final</c>), recipient and content.</summary>
public sealed record IncidentNotifyRequest(
    [property: Required, StringLength(16)] string Stage,
    [property: Required, StringLength(256, MinimumLength = 3)] string Recipient,
    [property: Required, StringLength(65536, MinimumLength = 1)] string Content,
    DateTimeOffset? SentAt = null);

/// <summary>Halts every project the incident affects (OPR-20), in one step.</summary>
public sealed record IncidentHaltRequest([property: Required, StringLength(500, MinimumLength = 3)] string Reason);

/// <summary>Closes an incident (only after the final report was sent).</summary>
public sealed record IncidentCloseRequest([property: Required, StringLength(8000, MinimumLength = 3)] string Summary);

/// <summary>A project an incident affects, and its permit.</summary>
public sealed record IncidentAffectedView(string ProjectId, string PermitId);

/// <summary>
/// One OPR-19 deadline: <c>early-warning</c> 24 hours, <c>detailed</c> 72 hours and <c>final</c> one month after detection.
/// Status: <c>pending</c>, <c>overdue</c> (past due, not sent), <c>sent</c>, or <c>sent-late</c>. From <see cref="RemindAt"/>
/// on, a pending stage is <see cref="DueSoon"/> and a reminder alert fires.
/// </summary>
public sealed record IncidentDeadlineView(string Stage, DateTimeOffset DueAt, string Status, DateTimeOffset? SentAt, DateTimeOffset? RemindAt = null, bool DueSoon = false);

/// <summary>
/// A notification sent to the HDAB: to whom, when (as the operator states it), and the SHA-256 of what was sent (with the
/// content itself); <see cref="RecordedAt"/> is when the SPE recorded it, so a notification entered long after the date it
/// claims shows as such (null for notifications recorded before the SPE kept that time).
/// </summary>
public sealed record IncidentNotificationView(string Stage, string Recipient, DateTimeOffset SentAt, string ContentSha256, string RecordedBy, string Content,
    DateTimeOffset? RecordedAt = null);

/// <summary>An entry of an incident's history (update, notification, halt, close).</summary>
public sealed record IncidentEventView(string Kind, DateTimeOffset At, string By, string? Note);

/// <summary>An incident, with its HDAB clock computed at the time of the request.</summary>
public sealed record IncidentView(
    string Id,
    string Title,
    string Description,
    string Severity,
    string State,
    DateTimeOffset DetectedAt,
    DateTimeOffset OpenedAt,
    string OpenedBy,
    IReadOnlyList<IncidentAffectedView> Affected,
    IReadOnlyList<IncidentDeadlineView> Deadlines,
    bool Overdue,
    DateTimeOffset? ClosedAt,
    IReadOnlyList<IncidentNotificationView> Notifications,
    IReadOnlyList<IncidentEventView> Events);

/// <summary>The halts in force on the incident's projects after its halt step (a project already halted gets no second halt).</summary>
public sealed record IncidentHaltView(IReadOnlyList<string> Halts, IReadOnlyList<string> ProjectIds);
