using Microsoft.Extensions.Logging;

namespace OpenSpe.Federation.Analyses;

/// <summary>Log events of the federated analyses (event ids 21101-21199). They name components and codes, never data.</summary>
internal static partial class FederationAnalysisLog
{
    [LoggerMessage(EventId = 21101, Level = LogLevel.Information, Message = "SPE21101 Federated analysis {Component} released an aggregate")]
    public static partial void Released(ILogger logger, string component);

    [LoggerMessage(EventId = 21102, Level = LogLevel.Warning, Message = "SPE21102 Federated analysis {Component} refused with {Code}: {Reason}")]
    public static partial void Refused(ILogger logger, string component, string code, string reason);

    [LoggerMessage(EventId = 21103, Level = LogLevel.Information, Message = "SPE21103 Federated GLM finished: {Iterations} iterations over {Nodes} nodes, converged {Converged}")]
    public static partial void GlmFinished(ILogger logger, int iterations, int nodes, bool converged);

    [LoggerMessage(EventId = 21104, Level = LogLevel.Warning, Message = "SPE21104 Federated {Component} stopped: {Code} {Reason}")]
    public static partial void CoordinationFailed(ILogger logger, string component, string code, string reason);

    /// <summary>Logs what a node answers for <paramref name="component"/> and returns the outcome unchanged.</summary>
    public static AnalysisOutcome Logged(ILogger logger, string component, AnalysisOutcome outcome)
    {
        if (outcome.Refusal is { } refusal)
        {
            Refused(logger, component, refusal.Code, refusal.Message);
        }
        else
        {
            Released(logger, component);
        }

        return outcome;
    }
}
