using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Terminal;

/// <summary>Terminal gateway log messages (SPE18xxx). Ids, counts and reasons only: never tickets, input or screen contents.</summary>
internal static partial class TerminalLog
{
    [LoggerMessage(EventId = 18001, Level = LogLevel.Information, Message = "SPE18001 terminal {SessionId} opened for {Account} in project {ProjectId}")]
    public static partial void SessionOpened(ILogger logger, string sessionId, string account, string projectId);

    [LoggerMessage(EventId = 18002, Level = LogLevel.Information, Message = "SPE18002 terminal {SessionId} closed: {Reason} after {DurationMs} ms (shell exit {ExitCode})")]
    public static partial void SessionClosed(ILogger logger, string sessionId, string reason, long durationMs, int exitCode);

    [LoggerMessage(EventId = 18003, Level = LogLevel.Warning, Message = "SPE18003 terminal of {Account} in project {ProjectId} did not start ({ErrorType})")]
    public static partial void StartFailed(ILogger logger, Exception exception, string account, string projectId, string errorType);

    [LoggerMessage(EventId = 18004, Level = LogLevel.Error, Message = "SPE18004 terminal {SessionId} recording could not be written; the session ends (fail closed)")]
    public static partial void RecordingFailed(ILogger logger, Exception exception, string sessionId);
}
