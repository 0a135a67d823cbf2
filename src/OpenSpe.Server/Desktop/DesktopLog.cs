using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Desktop;

/// <summary>Desktop gateway log messages (SPE17xxx). Ids, counts and reasons only: never tickets, screen contents or clipboard text.</summary>
internal static partial class DesktopLog
{
    [LoggerMessage(EventId = 17001, Level = LogLevel.Information, Message = "SPE17001 desktop {SessionId} opened for {Account} in project {ProjectId}")]
    public static partial void SessionOpened(ILogger logger, string sessionId, string account, string projectId);

    [LoggerMessage(EventId = 17002, Level = LogLevel.Information, Message = "SPE17002 desktop {SessionId} closed: {Reason} after {DurationMs} ms")]
    public static partial void SessionClosed(ILogger logger, string sessionId, string reason, long durationMs);

    [LoggerMessage(EventId = 17003, Level = LogLevel.Information, Message = "SPE17003 desktop of {Account} in project {ProjectId} started (display :{Display}) in {ElapsedMs} ms")]
    public static partial void DesktopStarted(ILogger logger, string account, string projectId, int display, long elapsedMs);

    [LoggerMessage(EventId = 17004, Level = LogLevel.Warning, Message = "SPE17004 desktop of {Account} in project {ProjectId} did not start: {Reason}")]
    public static partial void DesktopStartFailed(ILogger logger, string account, string projectId, string reason);

    [LoggerMessage(EventId = 17005, Level = LogLevel.Error, Message = "SPE17005 desktop {SessionId} recording could not be written; the session ends (fail closed)")]
    public static partial void RecordingFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(EventId = 17006, Level = LogLevel.Information, Message = "SPE17006 desktop of {Account} in project {ProjectId} stopped: {Reason}")]
    public static partial void DesktopStopped(ILogger logger, string account, string projectId, string reason);

    [LoggerMessage(EventId = 17007, Level = LogLevel.Warning, Message = "SPE17007 desktop of {Account} access re-check failed; the desktop is stopped (fail closed)")]
    public static partial void RecheckFailed(ILogger logger, Exception exception, string account);

    [LoggerMessage(EventId = 17008, Level = LogLevel.Warning, Message = "SPE17008 desktop {SessionId} stream broke ({Reason})")]
    public static partial void StreamBroke(ILogger logger, Exception exception, string sessionId, string reason);
}
