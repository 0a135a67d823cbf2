using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Keeps <see cref="HaltRegistry"/> in step with the halts recorded in the database, which every instance shares: it reads
/// them every <see cref="HaltOptions.PollInterval"/> and applies what changed, so a halt or resume made on another instance
/// is in force here within the interval (a halt cancels this instance's running work of the project as a local one does).
/// Each successful read keeps the registry current for <see cref="HaltOptions.StalenessBound"/>; past that the registry
/// refuses all project work (fail closed) and this service cancels what runs, until a read succeeds again.
/// </summary>
/// <remarks>
/// The halts table itself is read, not a version counter beside it: there is no second record that a writer could forget
/// to bump, and the active halts are a handful of rows.
/// </remarks>
internal sealed partial class HaltSynchronizer(HaltRegistry registry, IHaltSource source, IOptions<HaltOptions> options, ILogger<HaltSynchronizer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var bound = Stopwatch.Frequency * settings.StalenessBound.Ticks / TimeSpan.TicksPerSecond;
        // The host read the halts just before it started listening, so they count as current from now.
        registry.MarkFresh(Stopwatch.GetTimestamp() + bound);
        var failing = false;
        var stale = false;
        // Note: real time (see HaltRegistry.IsStale), not the server's TimeProvider, which tests move by days at once.
        using var timer = new PeriodicTimer(settings.PollInterval);
        while (await NextAsync(timer, stoppingToken))
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(settings.StalenessBound);
                var ticket = registry.BeginRead();
                var state = await source.ReadAsync(timeout.Token);
                // Dropped if a read that began later (a halt or resume made here) was applied meanwhile.
                await registry.ApplyAsync(state, ticket);
                registry.MarkFresh(started + bound);
                if (failing)
                {
                    failing = false;
                    LogRecovered(logger);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                if (!failing)
                {
                    failing = true;
                    LogReadFailed(logger, ex.GetType().Name);
                }
            }

            if (await registry.StopWorkIfStaleAsync())
            {
                if (!stale)
                {
                    stale = true;
                    LogStale(logger, settings.StalenessBound.TotalMilliseconds);
                }
            }
            else
            {
                stale = false;
            }
        }
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 13101, Level = LogLevel.Warning, Message = "SPE13101 the halts in force could not be read from the database ({ErrorType}); trying again every poll interval")]
    private static partial void LogReadFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = 13102, Level = LogLevel.Error, Message = "SPE13102 the halts in force have not been read for more than {BoundMs} ms: every project request is refused (503, SPE3005) and running project work is cancelled until they are")]
    private static partial void LogStale(ILogger logger, double boundMs);

    [LoggerMessage(EventId = 13103, Level = LogLevel.Information, Message = "SPE13103 the halts in force are read from the database again")]
    private static partial void LogRecovered(ILogger logger);
}
