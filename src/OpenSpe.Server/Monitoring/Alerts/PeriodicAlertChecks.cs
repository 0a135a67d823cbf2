using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Operations.Certificates;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// Runs the rules with a <see cref="AlertCheck"/> every <see cref="AlertOptions.CheckInterval"/> on the server's
/// <see cref="TimeProvider"/> (EHDSR-9, TIR-13, TIR-34): free disk of the data directory, the TLS and federation
/// certificates' expiry, the audit witness files' age. A condition fires once when it begins, not on every run, and
/// again only after it has cleared and returned.
/// </summary>
internal sealed class PeriodicAlertChecks(AlertEvaluator evaluator, IServiceProvider services, DataDirectory directory, IOptions<AlertOptions> options,
    IOptions<AuditOptions> audit, TimeProvider time) : BackgroundService, IAuditObserver
{
    private readonly HashSet<(string Rule, string Key)> _active = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private long _lastCommitTicks = time.GetUtcNow().UtcTicks;

    /// <summary>Runs every check once and fires the conditions that began since the last run; returns what fired.</summary>
    public async Task<IReadOnlyList<FiredAlert>> RunOnceAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var fired = new List<FiredAlert>();
            foreach (var rule in evaluator.Rules.Where(r => r.Check != AlertCheck.None))
            {
                var breaches = Breaches(rule, now).ToList();
                // Note: a condition that cleared is forgotten, so that its return fires again; one that persists fires once.
                _active.RemoveWhere(a => a.Rule == rule.Name && !breaches.Any(b => b.Key == a.Key));
                foreach (var (key, value, projectId) in breaches)
                {
                    if (_active.Add((rule.Name, key)))
                    {
                        var alert = new FiredAlert(rule.Name, rule.Check.ToString().ToLowerInvariant(), key, value, rule.Threshold, rule.Window, now, rule.Description, projectId);
                        evaluator.Raise(alert);
                        fired.Add(alert);
                    }
                }
            }

            return fired;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Committed(AuditEntry entry, TimeSpan elapsed) => Interlocked.Exchange(ref _lastCommitTicks, time.GetUtcNow().UtcTicks);

    public void Failed(AuditEntry entry)
    {
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CheckInterval, time);
        try
        {
            do
            {
                await RunOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private IEnumerable<(string Key, long Value, string? ProjectId)> Breaches(AlertRule rule, DateTimeOffset now) => rule.Check switch
    {
        AlertCheck.DiskFree => DiskBreaches(rule),
        AlertCheck.CertificateExpiry => CertificateBreaches(rule, now),
        AlertCheck.WitnessAge => WitnessBreaches(rule, now),
        _ => [],
    };

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
        foreach (var file in audit.Value.Witnesses.Files)
        {
            // Note: a file not there yet counts as written at start (the first checkpoint creates it), so a new server does not alarm, while one that never gets written still does a day later.
            var written = File.Exists(file) ? new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero) : _started;
            // Note: a witness is stale only when records were committed well after its last write (a checkpoint was due):
            // a server that wrote nothing for a day has nothing new to witness.
            if (now - written > rule.Window && lastCommit - written > 2 * audit.Value.CheckpointInterval)
            {
                yield return (file, (long)Math.Min((now - written).TotalHours, 1_000_000), null);
            }
        }
    }
}
