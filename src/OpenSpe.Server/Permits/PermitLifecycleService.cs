using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Terminates projects when their permits expire and erases them after the grace period
/// (OPR-5). It sleeps until the next due time (or a permit change), not in a polling loop over
/// all permits; access itself is refused at <c>validUntil</c> by the access gate regardless.
/// </summary>
internal sealed partial class PermitLifecycleService(IServiceScopeFactory scopes, PermitLifecycleSignal signal, TimeProvider time, IOptions<PermitOptions> options, ILogger<PermitLifecycleService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? next;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var permits = scope.ServiceProvider.GetRequiredService<PermitService>();
                await permits.ProcessDueAsync(stoppingToken);
                next = await permits.NextDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Note: a failed pass (e.g. the audit log is down) is retried soon; the gate still refuses expired access meanwhile.
                LogPassFailed(logger, ex.GetType().Name);
                next = time.GetUtcNow().AddSeconds(5);
            }

            var wait = next is { } due ? due - time.GetUtcNow() : options.Value.MaxSleep;
            wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.Value.MaxSleep ? options.Value.MaxSleep : wait;
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            try
            {
                await Task.WhenAny(Task.Delay(wait, time, wake.Token), signal.WaitAsync(wake.Token));
            }
            finally
            {
                await wake.CancelAsync();
            }
        }
    }

    [LoggerMessage(EventId = 13001, Level = LogLevel.Error, Message = "SPE13001 permit lifecycle pass failed ({ErrorType}); retrying in 5 s")]
    private static partial void LogPassFailed(ILogger logger, string errorType);
}
