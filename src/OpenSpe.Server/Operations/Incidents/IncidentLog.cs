using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Operations.Incidents;

/// <summary>The incidents module's log events (SPE22001–SPE22099); never the content of a notification.</summary>
internal static partial class IncidentLog
{
    [LoggerMessage(EventId = 22001, Level = LogLevel.Warning, Message = "SPE22001 Incident {IncidentId} opened: severity {Severity}, detected {DetectedAt:O}, {ProjectCount} affected project(s)")]
    public static partial void Opened(ILogger logger, string incidentId, string severity, DateTimeOffset detectedAt, int projectCount);

    [LoggerMessage(EventId = 22002, Level = LogLevel.Information, Message = "SPE22002 Incident {IncidentId}: {Stage} notification to {Recipient} recorded (content SHA-256 {Sha256}, {Status})")]
    public static partial void Notified(ILogger logger, string incidentId, string stage, string recipient, string sha256, string status);

    [LoggerMessage(EventId = 22003, Level = LogLevel.Warning, Message = "SPE22003 Incident {IncidentId}: halted {ProjectCount} affected project(s)")]
    public static partial void Halted(ILogger logger, string incidentId, int projectCount);

    [LoggerMessage(EventId = 22004, Level = LogLevel.Information, Message = "SPE22004 Incident {IncidentId} closed")]
    public static partial void Closed(ILogger logger, string incidentId);
}
