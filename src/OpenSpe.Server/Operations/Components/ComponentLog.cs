using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Operations.Components;

/// <summary>The component inventory's log events (SPE22040–SPE22049).</summary>
internal static partial class ComponentLog
{
    [LoggerMessage(EventId = 22040, Level = LogLevel.Warning, Message = "SPE22040 The version of system component {Component} could not be read: {Reason}")]
    public static partial void ProbeFailed(ILogger logger, string component, string reason);
}
