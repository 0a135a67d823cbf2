namespace OpenSpe.Server.Operations.Incidents;

/// <summary>Row of <c>incidents</c>: a security incident or non-compliance finding the operator reports to the HDAB (OPR-18, OPR-19).</summary>
internal sealed class IncidentEntity
{
    /// <summary>Incident id (<c>inc-…</c>).</summary>
    public string Id { get; set; } = "";

    /// <summary>A short title.</summary>
    public string Title { get; set; } = "";

    /// <summary>What happened, as known so far.</summary>
    public string Description { get; set; } = "";

    /// <summary>Severity (<see cref="IncidentSeverities"/>).</summary>
    public string Severity { get; set; } = "";

    /// <summary>State (<see cref="IncidentStates"/>).</summary>
    public string State { get; set; } = IncidentStates.Open;

    /// <summary>When the incident was detected: the HDAB clock runs from here.</summary>
    public DateTimeOffset DetectedAt { get; set; }

    /// <summary>When it was recorded.</summary>
    public DateTimeOffset OpenedAt { get; set; }

    /// <summary>Account id of the operator who recorded it.</summary>
    public string OpenedBy { get; set; } = "";

    /// <summary>The affected projects and their permits as JSON (<c>[{"projectId":…,"permitId":…}]</c>).</summary>
    public string AffectedJson { get; set; } = "[]";

    /// <summary>When it was closed.</summary>
    public DateTimeOffset? ClosedAt { get; set; }

    /// <summary>Concurrency token: two operators updating at once do not overwrite each other.</summary>
    public Guid Revision { get; set; }
}

/// <summary>Row of <c>incident_events</c>: an update, a notification to the HDAB, a halt or the closing, in order.</summary>
internal sealed class IncidentEventEntity
{
    /// <summary>Row id.</summary>
    public long Id { get; set; }

    /// <summary>The incident.</summary>
    public string IncidentId { get; set; } = "";

    /// <summary>Kind (<see cref="IncidentEventKinds"/>).</summary>
    public string Kind { get; set; } = "";

    /// <summary>When it happened (for a notification: when it was sent, as the operator states it).</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>When the SPE recorded it (null for events recorded before this was kept).</summary>
    public DateTimeOffset? RecordedAt { get; set; }

    /// <summary>Account id of the operator who recorded it.</summary>
    public string By { get; set; } = "";

    /// <summary>A note (update, close), or the halted project ids (halt).</summary>
    public string? Note { get; set; }

    /// <summary>For a notification: its stage (<see cref="IncidentStages"/>).</summary>
    public string? Stage { get; set; }

    /// <summary>For a notification: to whom it went.</summary>
    public string? Recipient { get; set; }

    /// <summary>For a notification: the SHA-256 (hex) of its content, as sent.</summary>
    public string? ContentSha256 { get; set; }

    /// <summary>For a notification: its content, so the HDAB officers of the affected permits can read what was sent.</summary>
    public string? Content { get; set; }
}

/// <summary>Incident severities.</summary>
internal static class IncidentSeverities
{
    public const string Low = "low";
    public const string Medium = "medium";
    public const string High = "high";
    public const string Critical = "critical";

    /// <summary>Every severity.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Low, Medium, High, Critical };
}

/// <summary>Incident states.</summary>
internal static class IncidentStates
{
    public const string Open = "open";
    public const string Contained = "contained";
    public const string Closed = "closed";

    /// <summary>States an update may set (closing has its own step).</summary>
    public static readonly IReadOnlySet<string> Settable = new HashSet<string>(StringComparer.Ordinal) { Open, Contained };
}

/// <summary>Kinds of incident event.</summary>
internal static class IncidentEventKinds
{
    public const string Update = "update";
    public const string Notification = "notification";
    public const string Halt = "halt";
    public const string Close = "close";

    /// <summary>The incident was opened from an alert (the note holds the alert id).</summary>
    public const string FromAlert = "alert";

    /// <summary>A reminder alert fired before a stage's deadline (the stage is set).</summary>
    public const string Reminder = "reminder";

    /// <summary>An alert fired because a stage's deadline passed unsent (the stage is set).</summary>
    public const string OverdueAlert = "overdue";
}

/// <summary>The HDAB notification stages of OPR-19 and their deadlines from detection.</summary>
internal static class IncidentStages
{
    public const string EarlyWarning = "early-warning";
    public const string Detailed = "detailed";
    public const string Final = "final";

    /// <summary>Every stage, in order.</summary>
    public static readonly IReadOnlyList<string> All = [EarlyWarning, Detailed, Final];

    /// <summary>When a stage is due: 24 hours, 72 hours and one calendar month after detection.</summary>
    public static DateTimeOffset DueAt(string stage, DateTimeOffset detectedAt) => stage switch
    {
        EarlyWarning => detectedAt.AddHours(24),
        Detailed => detectedAt.AddHours(72),
        Final => detectedAt.AddMonths(1),
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "not an incident stage"),
    };
}
