using Microsoft.Extensions.Logging;

namespace OpenSpe.Federation.Learning;

/// <summary>Log events of federated learning (event ids 21150-21199). They name rounds, counts and ρ, never data or updates.</summary>
internal static partial class LearningLog
{
    [LoggerMessage(EventId = 21150, Level = LogLevel.Warning, Message = "SPE21150 Privacy budget refused {Purpose}: it costs ρ {Rho} and the permit allows ρ {Cap} in all")]
    public static partial void BudgetRefused(ILogger logger, string purpose, double rho, double cap);

    [LoggerMessage(EventId = 21151, Level = LogLevel.Information, Message = "SPE21151 Federated learning round {Round} released a clipped noised update of {Columns} values")]
    public static partial void RoundReleased(ILogger logger, int round, int columns);

    [LoggerMessage(EventId = 21152, Level = LogLevel.Information, Message = "SPE21152 Federated training finished: {Rounds} rounds over {Nodes} nodes")]
    public static partial void TrainingFinished(ILogger logger, int rounds, int nodes);
}
