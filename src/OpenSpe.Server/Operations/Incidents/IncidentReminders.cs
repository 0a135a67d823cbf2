using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Operations.Incidents;

/// <summary>
/// Reminds the operator of the HDAB clock (OPR-19): every <see cref="IncidentReminderOptions.CheckInterval"/> on the server's
/// <see cref="TimeProvider"/>, each open incident's unsent stages are checked; within a stage's lead a reminder alert fires,
/// past its deadline an overdue alert fires. Each fires once per stage: the incident's history records it, so a restart
/// does not repeat it.
/// </summary>
internal sealed partial class IncidentReminders(IServiceScopeFactory scopes, AlertEvaluator alerts, IOptions<IncidentReminderOptions> options, TimeProvider time,
    ILogger<IncidentReminders> logger) : BackgroundService
{
    /// <summary>The rule name of a reminder before a deadline.</summary>
    public const string ReminderRule = "incident-deadline-reminder";

    /// <summary>The rule name of a deadline passed unsent.</summary>
    public const string OverdueRule = "incident-deadline-overdue";

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Checks every open incident once; returns the alerts raised.</summary>
    public async Task<IReadOnlyList<FiredAlert>> RunOnceAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
            var now = time.GetUtcNow();
            var incidents = await database.Set<IncidentEntity>().Where(i => i.State != IncidentStates.Closed).ToListAsync(cancellationToken);
            var ids = incidents.Select(i => i.Id).ToList();
            var events = (await database.Set<IncidentEventEntity>().Where(e => ids.Contains(e.IncidentId)).ToListAsync(cancellationToken)).ToLookup(e => e.IncidentId);
            var raised = new List<(FiredAlert Alert, IncidentEventEntity Event)>();
            foreach (var incident in incidents)
            {
                var history = events[incident.Id].ToList();
                foreach (var deadline in IncidentClock.Deadlines(incident.DetectedAt, history, now, options.Value))
                {
                    var (kind, rule) = deadline.Status == IncidentClock.Overdue ? (IncidentEventKinds.OverdueAlert, OverdueRule)
                        : deadline.DueSoon ? (IncidentEventKinds.Reminder, ReminderRule)
                        : (null, null);
                    if (kind is null || rule is null || history.Any(e => e.Kind == kind && e.Stage == deadline.Stage))
                    {
                        continue;
                    }

                    var hoursLeft = (long)Math.Floor((deadline.DueAt - now).TotalHours);
                    var alert = new FiredAlert(rule, "incident", $"{incident.Id} {deadline.Stage}", hoursLeft, 0, options.Value.LeadOf(deadline.Stage), now,
                        kind == IncidentEventKinds.Reminder
                            ? $"Incident {incident.Id} ({incident.Severity}): the {deadline.Stage} notification to the HDAB is due at {deadline.DueAt:u}; record it with spe incident notify."
                            : $"Incident {incident.Id} ({incident.Severity}): the {deadline.Stage} notification to the HDAB was due at {deadline.DueAt:u} and is not recorded.",
                        IncidentStore.Affected(incident).FirstOrDefault()?.ProjectId);
                    var entry = new IncidentEventEntity { IncidentId = incident.Id, Kind = kind, At = now, By = "system", Stage = deadline.Stage, Note = rule };
                    database.Add(entry);
                    raised.Add((alert, entry));
                }
            }

            if (raised.Count == 0)
            {
                return [];
            }

            // Note: the history is written first, so that an alert is never raised twice for one stage; if the write fails, nothing is raised and the next run tries again.
            await database.SaveChangesAsync(cancellationToken);
            foreach (var (alert, entry) in raised)
            {
                LogRaised(logger, entry.IncidentId, entry.Stage!, entry.Kind);
                alerts.Raise(alert);
            }

            return [.. raised.Select(r => r.Alert)];
        }
        finally
        {
            _gate.Release();
        }
    }

    // Note: made with the service, not in ExecuteAsync: since .NET 10 ExecuteAsync starts on the thread pool, so a timer made
    // there starts late by however long the pool takes, and a clock moved in between (a test's fake clock) is missed.
    private readonly PeriodicTimer _timer = new(options.Value.CheckInterval, time);

    public override void Dispose()
    {
        _gate.Dispose();
        _timer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timer = _timer;
        try
        {
            do
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    LogFailed(logger, ex.GetType().Name);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 22010, Level = LogLevel.Warning, Message = "SPE22010 Incident {IncidentId}: {Stage} {Kind} alert raised")]
    private static partial void LogRaised(ILogger logger, string incidentId, string stage, string kind);

    [LoggerMessage(EventId = 22011, Level = LogLevel.Error, Message = "SPE22011 Incident reminders could not be checked ({Error}); the next run tries again")]
    private static partial void LogFailed(ILogger logger, string error);
}
