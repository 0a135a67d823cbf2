using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Operations.Certificates;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// Runs the rules with a <see cref="AlertCheck"/> every <see cref="AlertOptions.CheckInterval"/> on the server's
/// <see cref="TimeProvider"/> (EHDSR-9, TIR-13, TIR-34): free disk of the data directory, the TLS and federation
/// certificates' expiry, the audit witnesses' age (files and HTTPS endpoints), the latency objectives of the API, of
/// federation calls and of audit durability (TIR-15, TIR-35; <see cref="LatencyRecorder"/>), and the readiness checks behind
/// <c>/readyz</c>. A condition fires once when it begins, not
/// on every run, and again only after it has cleared and returned; the conditions in force are kept in the data directory
/// (<see cref="StateFileName"/>), so a restart does not fire them again.
/// </summary>
internal sealed class PeriodicAlertChecks(AlertEvaluator evaluator, LatencyRecorder latency, IServiceProvider services, DataDirectory directory, IOptions<AlertOptions> options,
    IOptions<AuditOptions> audit, IOptions<BackupOptions> backup, TimeProvider time) : BackgroundService, IAuditObserver
{
    /// <summary>The file in the data directory that holds the conditions in force between runs and across restarts.</summary>
    public const string StateFileName = "alert-checks.json";

    private readonly HashSet<(string Rule, string Key)> _active = Load(directory);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TaskCompletionSource<IReadOnlyList<FiredAlert>> _startRun = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private long _lastCommitTicks = time.GetUtcNow().UtcTicks;

    /// <summary>What the run at start fired (the checks run once when the server starts, then on the timer).</summary>
    public Task<IReadOnlyList<FiredAlert>> StartRun => _startRun.Task;

    /// <summary>Runs every check once and fires the conditions that began since the last run; returns what fired.</summary>
    public async Task<IReadOnlyList<FiredAlert>> RunOnceAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var fired = new List<FiredAlert>();
            var changed = false;
            var checkedRules = evaluator.Rules.Where(r => r.Check != AlertCheck.None).ToList();
            var readiness = checkedRules.Any(r => r.Check == AlertCheck.Readiness) ? await ReadinessAsync(cancellationToken) : null;
            // Note: a rule switched off or removed since the last run leaves no condition behind to suppress its return.
            changed |= _active.RemoveWhere(a => !checkedRules.Any(r => r.Name == a.Rule)) > 0;
            foreach (var rule in checkedRules)
            {
                var breaches = rule.Check switch
                {
                    AlertCheck.Readiness => readiness!,
                    AlertCheck.BackupAge => await BackupEvidenceChecks.BackupBreachesAsync(services.GetRequiredService<AuditService>(), rule, backup.Value.Interval, _started, now, cancellationToken),
                    AlertCheck.DrillAge => await BackupEvidenceChecks.DrillBreachesAsync(services.GetRequiredService<AuditService>(), rule, now, cancellationToken),
                    _ => Breaches(rule, now).ToList(),
                };
                // Note: a condition that cleared is forgotten, so that its return fires again; one that persists fires once.
                changed |= _active.RemoveWhere(a => a.Rule == rule.Name && !breaches.Any(b => b.Key == a.Key)) > 0;
                foreach (var (key, value, projectId) in breaches)
                {
                    if (_active.Add((rule.Name, key)))
                    {
                        changed = true;
                        var alert = new FiredAlert(rule.Name, rule.Check.ToString().ToLowerInvariant(), key, value, rule.Threshold, rule.Window, now, rule.Description, projectId);
                        evaluator.Raise(alert);
                        fired.Add(alert);
                    }
                }
            }

            if (changed)
            {
                Save();
            }

            return fired;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Committed(AuditEntry entry, long sequence, TimeSpan elapsed) => Interlocked.Exchange(ref _lastCommitTicks, time.GetUtcNow().UtcTicks);

    public void Failed(AuditEntry entry)
    {
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
            _startRun.TrySetResult(await RunOnceAsync(stoppingToken));
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _startRun.TrySetCanceled(stoppingToken);
        }
    }

    private IEnumerable<(string Key, long Value, string? ProjectId)> Breaches(AlertRule rule, DateTimeOffset now) => rule.Check switch
    {
        AlertCheck.DiskFree => DiskBreaches(rule),
        AlertCheck.CertificateExpiry => CertificateBreaches(rule, now),
        AlertCheck.WitnessAge => WitnessBreaches(rule, now),
        AlertCheck.RequestLatency or AlertCheck.FederationLatency or AlertCheck.FederationClientLatency or AlertCheck.AuditLatency => latency.Breaches(rule),
        _ => [],
    };

    /// <summary>The readiness checks of <c>/readyz</c> that fail now, each by its name (value 0: not ready).</summary>
    private async Task<List<(string Key, long Value, string? ProjectId)>> ReadinessAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<HealthCheckService>() is not { } health)
        {
            return [];
        }

        var report = await ReadinessChecks.RunAsync(health, cancellationToken);
        return [.. report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => (e.Key, 0L, (string?)null)).OrderBy(e => e.Key, StringComparer.Ordinal)];
    }

    private IEnumerable<(string, long, string?)> DiskBreaches(AlertRule rule)
    {
        var free = new DriveInfo(directory.Path).AvailableFreeSpace;
        return free < rule.Threshold ? [("data-directory", free, null)] : [];
    }

    private IEnumerable<(string, long, string?)> CertificateBreaches(AlertRule rule, DateTimeOffset now)
    {
        foreach (var (name, certificate) in PresentedCertificates.Of(services))
        {
            var left = PresentedCertificates.Left(certificate, now);
            if (left <= rule.Window)
            {
                // Note: the value is the whole days left (0 or less once expired), so the alert says how urgent it is.
                yield return (name, PresentedCertificates.WholeDays(left), null);
            }
        }
    }

    private IEnumerable<(string, long, string?)> WitnessBreaches(AlertRule rule, DateTimeOffset now)
    {
        var lastCommit = new DateTimeOffset(Interlocked.Read(ref _lastCommitTicks), TimeSpan.Zero);
        var witnesses = audit.Value.Witnesses;
        // Note: a file not there yet counts as written at start (the first checkpoint creates it), so a new server does not alarm, while one that never gets written still does a day later.
        var files = witnesses.Files.Select(f => (Key: f, Written: File.Exists(f) ? new DateTimeOffset(File.GetLastWriteTimeUtc(f), TimeSpan.Zero) : _started));
        // Note: an HTTPS witness counts from its last accepted push, kept across restarts (or this process's start when it
        // never took one); its key is the URL without the query, which may hold a credential.
        var publisher = services.GetService<AuditWitnessPublisher>();
        var endpoints = witnesses.Endpoints.Select(e => (Key: new Uri(e.Url).GetLeftPart(UriPartial.Path), Written: publisher?.LastPushed(e.Url) ?? _started));
        foreach (var (key, written) in files.Concat(endpoints))
        {
            // Note: a witness is stale only when records were committed well after its last write (a checkpoint was due):
            // a server that wrote nothing for a day has nothing new to witness.
            if (now - written > rule.Window && lastCommit - written > 2 * audit.Value.CheckpointInterval)
            {
                yield return (key, (long)Math.Min((now - written).TotalHours, 1_000_000), null);
            }
        }
    }

    private static HashSet<(string Rule, string Key)> Load(DataDirectory directory)
    {
        var file = directory.File(StateFileName);
        try
        {
            var saved = File.Exists(file) ? JsonSerializer.Deserialize<List<ActiveCondition>>(File.ReadAllText(file)) : null;
            return [.. (saved ?? []).Where(c => c.Rule is not null && c.Key is not null).Select(c => (c.Rule!, c.Key!))];
        }
        catch (JsonException)
        {
            // Note: an unreadable state file means conditions in force may fire once more; that is noise, never silence.
            return [];
        }
    }

    private void Save() => directory.WritePublic(StateFileName,
        JsonSerializer.Serialize(_active.OrderBy(a => a.Rule, StringComparer.Ordinal).ThenBy(a => a.Key, StringComparer.Ordinal).Select(a => new ActiveCondition(a.Rule, a.Key)).ToList()));

    private sealed record ActiveCondition(string? Rule, string? Key);
}
