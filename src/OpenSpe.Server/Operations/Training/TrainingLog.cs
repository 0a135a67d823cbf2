using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Operations.Training;

/// <summary>The training records' log events (SPE22030–SPE22039).</summary>
internal static partial class TrainingLog
{
    [LoggerMessage(EventId = 22030, Level = LogLevel.Information, Message = "SPE22030 Training recorded for account {AccountId}: role {Role}, completed {Completed}, expires {Expires}, by {RecordedBy}")]
    public static partial void Recorded(ILogger logger, string accountId, string role, string completed, string expires, string recordedBy);
}
