using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// At start, counts into the alert rules' windows the audit records still within them (<see cref="AlertEvaluator.ReplayAsync"/>),
/// so a restart neither forgets an attack under way nor lets one go on unnoticed by restarting the count.
/// </summary>
internal sealed partial class AlertWindowReplay(AlertEvaluator evaluator, AuditService audit, ILogger<AlertWindowReplay> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var counted = await evaluator.ReplayAsync(audit, cancellationToken).ConfigureAwait(false);
            Replayed(logger, counted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Note: the server still starts: its rules count from now, as they would have before the replay existed, and
            // the audit log itself is whole (the writer's own health check fails closed on it if it is not).
            ReplayFailed(logger, e.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 23015, Level = LogLevel.Information, Message = "SPE23015 alert rules counted {Records} audit record(s) still within their windows at start")]
    private static partial void Replayed(ILogger logger, long records);

    [LoggerMessage(EventId = 23016, Level = LogLevel.Error, Message = "SPE23016 alert rules could not count the audit records within their windows at start ({ErrorType}); they count from now")]
    private static partial void ReplayFailed(ILogger logger, string errorType);
}
