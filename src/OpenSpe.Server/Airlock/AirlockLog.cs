using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Airlock;

/// <summary>Log events of the airlock (19000–19999): ids, decisions and counts, never file content or names of outputs.</summary>
internal static partial class AirlockLog
{
    [LoggerMessage(EventId = 19001, Level = LogLevel.Information, Message = "SPE19001 {Direction} request {RequestId} submitted with {Files} files (automatic check: {Check})")]
    public static partial void Submitted(ILogger logger, string direction, string requestId, int files, string check);

    [LoggerMessage(EventId = 19002, Level = LogLevel.Information, Message = "SPE19002 {Direction} request {RequestId}: {Decision} on {Files} files")]
    public static partial void Reviewed(ILogger logger, string direction, string requestId, string decision, int files);

    [LoggerMessage(EventId = 19003, Level = LogLevel.Error, Message = "SPE19003 an approved file of import request {RequestId} could not be placed in /project/imports ({Reason})")]
    public static partial void PlacementFailed(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = 19004, Level = LogLevel.Warning, Message = "SPE19004 removed {Entries} entries of airlock-work/ left by an earlier run (the plaintext of a check or placement a stop interrupted)")]
    public static partial void LeftoversRemoved(ILogger logger, int entries);
}
