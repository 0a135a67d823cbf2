namespace OpenSpe.Server.Portal;

/// <summary>The words the portal shows for the incident API's codes (stages, deadline statuses, severities, states).</summary>
internal static class IncidentText
{
    /// <summary>A deadline stage in words, with its time (OPR-19).</summary>
    public static string Stage(string stage) => stage switch
    {
        "early-warning" => PortalText.Get("StageEarlyWarning"),
        "detailed" => PortalText.Get("StageDetailed"),
        "final" => PortalText.Get("StageFinal"),
        _ => stage,
    };

    /// <summary>A deadline's status in words.</summary>
    public static string DeadlineStatus(string status) => status switch
    {
        "pending" => PortalText.Get("DeadlinePending"),
        "overdue" => PortalText.Get("DeadlineOverdue"),
        "sent" => PortalText.Get("DeadlineSent"),
        "sent-late" => PortalText.Get("DeadlineSentLate"),
        _ => status,
    };

    /// <summary>A severity in words.</summary>
    public static string Severity(string severity) => severity switch
    {
        "low" => PortalText.Get("SeverityLow"),
        "medium" => PortalText.Get("SeverityMedium"),
        "high" => PortalText.Get("SeverityHigh"),
        "critical" => PortalText.Get("SeverityCritical"),
        _ => severity,
    };

    /// <summary>An incident state in words.</summary>
    public static string State(string state) => state switch
    {
        "open" => PortalText.Get("IncidentStateOpen"),
        "contained" => PortalText.Get("IncidentStateContained"),
        "closed" => PortalText.Get("IncidentStateClosed"),
        _ => state,
    };
}
