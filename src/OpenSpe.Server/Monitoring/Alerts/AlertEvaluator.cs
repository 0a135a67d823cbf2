using System.Threading.Channels;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// Evaluates the alert rules in process over every committed audit record (EHDSR-9, TIR-13, TIR-27) and hands each
/// firing to <see cref="AlertDispatcher"/>. A failed audit append fires <see cref="DefaultAlertRules.AuditWriteFailure"/>
/// at once (at most once a minute), since the log it would be read from is what failed.
/// </summary>
internal sealed class AlertEvaluator : IAuditObserver
{
    private readonly List<(AlertRule Rule, AlertWindows Windows)> _rules;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private DateTimeOffset _lastWriteFailureAlert = DateTimeOffset.MinValue;
    private long _firstLiveSequence;

    public AlertEvaluator(IOptions<AlertOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _rules = options.Value.InForce().Select(r => (r, new AlertWindows(r, options.Value.MaxKeysPerRule))).ToList();
    }

    /// <summary>Firings waiting for the dispatcher. Note: bounded, dropping the oldest, so an alert storm cannot exhaust memory; every one that is dispatched is audited.</summary>
    public Channel<FiredAlert> Fired { get; } = Channel.CreateBounded<FiredAlert>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    /// <summary>The rules in force.</summary>
    public IReadOnlyList<AlertRule> Rules => _rules.Select(r => r.Rule).ToList();

    public void Committed(AuditEntry entry, long sequence, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // Note: the alerts' own records never count, or one alert could feed another without end.
        if (entry.Action.StartsWith("security.alert", StringComparison.Ordinal))
        {
            if (ModuleAlert(entry, sequence) is { } notice)
            {
                Fired.Writer.TryWrite(notice);
            }

            return;
        }

        Interlocked.CompareExchange(ref _firstLiveSequence, sequence, 0);
        var now = _time.GetUtcNow();
        foreach (var (rule, windows) in _rules)
        {
            if (rule.Match(entry) is not { } value || rule.KeyOf(entry) is not { } key)
            {
                continue;
            }

            long? fired;
            lock (_gate)
            {
                fired = windows.Add(key, value, now);
            }

            if (fired is { } total)
            {
                Fired.Writer.TryWrite(new FiredAlert(rule.Name, rule.GroupBy.ToString().ToLowerInvariant(), key, total, rule.Threshold, rule.Window, now, rule.Description,
                    rule.GroupBy == AlertGroup.Project ? key : null));
            }
        }
    }

    /// <summary>
    /// A <c>security.alert</c> record a module wrote itself (an emergency halt, a request for a high-privilege role, a
    /// federation peer refused repeatedly, a role conflict found at start) as an alert to list and notify; it is already in
    /// the log as record <paramref name="sequence"/>, so it is not written again. Null for the dispatcher's own records.
    /// </summary>
    private FiredAlert? ModuleAlert(AuditEntry entry, long sequence)
    {
        if (entry.Resource.Type == AlertDispatcher.RuleResource)
        {
            return null;
        }

        var kind = entry.Detail("kind") is { Length: > 0 } k ? k : "security-alert";
        var key = entry.Resource.Id ?? entry.Resource.ProjectId ?? "*";
        return new FiredAlert(kind, entry.Resource.Type ?? "none", key, 1, 1, TimeSpan.Zero, _time.GetUtcNow(),
            $"A security event recorded by the SPE itself ({kind}, {entry.Resource.Type ?? "system"} {key}); see audit record {sequence}.",
            entry.Resource.ProjectId, sequence);
    }

    /// <summary>
    /// Counts again, after a restart, the records still within each rule's window, so that a restart does not reset the
    /// counts (five failed sign-ins before it and five after are ten). Nothing fires from the replay: a threshold reached
    /// in it was reached, and alerted, before the restart, and the count starts again as it did then. Records this process
    /// has already counted live are skipped.
    /// </summary>
    public async Task<long> ReplayAsync(AuditService audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var now = _time.GetUtcNow();
        long counted = 0;
        foreach (var (rule, windows) in _rules.Where(r => r.Rule.Check == AlertCheck.None))
        {
            // Note: an action without a wildcard is asked of the log by name (indexed); a pattern reads the window whole.
            var query = new AuditQuery(Action: rule.Action.Contains('*', StringComparison.Ordinal) ? null : rule.Action,
                SinceMicros: AuditTime.ToMicros(now - rule.Window));
            await audit.ForEachAsync(query, row =>
            {
                var live = Interlocked.Read(ref _firstLiveSequence);
                if ((live != 0 && row.Sequence >= live) || row.Action.StartsWith("security.alert", StringComparison.Ordinal))
                {
                    return;
                }

                var entry = row.ToEntry();
                if (rule.Match(entry) is { } value && rule.KeyOf(entry) is { } key)
                {
                    lock (_gate)
                    {
                        windows.Add(key, value, AuditTime.FromMicros(row.TimestampMicros));
                    }

                    counted++;
                }
            }, cancellationToken).ConfigureAwait(false);
        }

        return counted;
    }

    /// <summary>Hands a firing from outside the audit stream (a periodic check, an incident reminder) to the dispatcher.</summary>
    public void Raise(FiredAlert alert) => Fired.Writer.TryWrite(alert);

    public void Failed(AuditEntry entry)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (now - _lastWriteFailureAlert < TimeSpan.FromMinutes(1))
            {
                return;
            }

            _lastWriteFailureAlert = now;
        }

        Fired.Writer.TryWrite(new FiredAlert(DefaultAlertRules.AuditWriteFailure, "none", "*", 1, 1, TimeSpan.FromMinutes(1), now,
            "An audit record could not be written: requests that need one are refused until the log is writable again.", null));
    }
}
