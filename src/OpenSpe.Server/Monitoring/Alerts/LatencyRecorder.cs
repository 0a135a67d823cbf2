using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// Feeds the latency objective rules (<see cref="AlertCheck.RequestLatency"/>, <see cref="AlertCheck.FederationLatency"/>,
/// <see cref="AlertCheck.FederationClientLatency"/>, <see cref="AlertCheck.AuditLatency"/>; TIR-15, TIR-35) from the durations
/// the server already measures: a <see cref="MeterListener"/> on the platform's <c>http.server.request.duration</c> histogram
/// of this host, on the federation module's duration histograms of calls served and calls made, and on the audit writer's
/// append duration histogram.
/// Each rule keeps a <see cref="LatencyWindow"/> per key (<c>api</c>; a federation peer's name), so memory is fixed:
/// at most <see cref="MaxKeys"/> keys per rule of a few kilobytes each. <see cref="PeriodicAlertChecks"/> reads them.
/// </summary>
internal sealed class LatencyRecorder : IDisposable
{
    /// <summary>The platform's meter and histogram of HTTP request durations (seconds).</summary>
    public const string HostingMeter = "Microsoft.AspNetCore.Hosting";

    /// <summary>The HTTP request duration histogram's name.</summary>
    public const string RequestDuration = "http.server.request.duration";

    /// <summary>The federation call duration histogram's name (on <see cref="Federation.FederationMetrics.MeterName"/>).</summary>
    public const string FederationCallDuration = "openspe.federation.call.duration";

    /// <summary>The duration histogram of the federation calls this node makes (on <see cref="Federation.FederationMetrics.MeterName"/>).</summary>
    public const string FederationClientCallDuration = "openspe.federation.client.call.duration";

    /// <summary>The audit append duration histogram's name (on <see cref="SpeMetrics.MeterName"/>).</summary>
    public const string AuditAppendDuration = "spe.audit.append.duration";

    /// <summary>The key of the API's window.</summary>
    public const string ApiKey = "api";

    /// <summary>The key of the audit log's window.</summary>
    public const string AuditKey = "audit";

    /// <summary>Keys (federation peers) per rule at most; beyond, new ones share <see cref="AlertWindows.Overflow"/>.</summary>
    public const int MaxKeys = 256;

    private readonly MeterListener _listener = new();
    private readonly IMeterFactory _meters;
    private readonly TimeProvider _time;
    private readonly List<Tracked> _api;
    private readonly List<Tracked> _federation;
    private readonly List<Tracked> _federationClient;
    private readonly List<Tracked> _audit;
    private readonly Lazy<HashSet<string>> _streamingRoutes;

    public LatencyRecorder(AlertEvaluator evaluator, IServiceProvider services, IMeterFactory meters, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        _meters = meters;
        _time = time;
        _api = [.. evaluator.Rules.Where(r => r.Check == AlertCheck.RequestLatency).Select(r => new Tracked(r))];
        _federation = [.. evaluator.Rules.Where(r => r.Check == AlertCheck.FederationLatency).Select(r => new Tracked(r))];
        _federationClient = [.. evaluator.Rules.Where(r => r.Check == AlertCheck.FederationClientLatency).Select(r => new Tracked(r))];
        _audit = [.. evaluator.Rules.Where(r => r.Check == AlertCheck.AuditLatency).Select(r => new Tracked(r))];
        // Note: streaming answers (downloads, log follows, desktop and terminal connections, the audit export) last as long
        // as their transfer, so they are left out of the objective; the endpoints say so themselves (WithAuditStreaming).
        _streamingRoutes = new(() => StreamingRoutes(services));
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Note: this host's histograms only (their meters come from this host's factory), so that two servers in one
            // process, as in the tests, do not count each other's requests or federation calls.
            if (!ReferenceEquals(instrument.Meter.Scope, _meters))
            {
                return;
            }

            if (_api.Count > 0 && instrument.Name == RequestDuration && instrument.Meter.Name == HostingMeter)
            {
                listener.EnableMeasurementEvents(instrument, _api);
            }
            else if (_federation.Count > 0 && instrument.Name == FederationCallDuration && instrument.Meter.Name == Federation.FederationMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument, _federation);
            }
            else if (_federationClient.Count > 0 && instrument.Name == FederationClientCallDuration && instrument.Meter.Name == Federation.FederationMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument, _federationClient);
            }
            else if (_audit.Count > 0 && instrument.Name == AuditAppendDuration && instrument.Meter.Name == SpeMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument, _audit);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>What <paramref name="rule"/> holds for <paramref name="key"/> in the window ending now, or null when it has seen nothing for it.</summary>
    public LatencySummary? Read(string rule, string key)
    {
        var tracked = All().FirstOrDefault(t => t.Rule.Name == rule);
        return tracked?.Read(key, _time.GetUtcNow());
    }

    /// <summary>The keys of <paramref name="rule"/> whose window breaks its objective now, with the quantile in whole milliseconds.</summary>
    public IEnumerable<(string Key, long Value, string? ProjectId)> Breaches(AlertRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var now = _time.GetUtcNow();
        var tracked = All().FirstOrDefault(t => t.Rule.Name == rule.Name);
        if (tracked is null)
        {
            yield break;
        }

        foreach (var key in tracked.Keys())
        {
            if (tracked.Read(key, now) is { } summary && LatencyWindow.Breached(summary, rule.LatencyQuantile, rule.LatencyMinimumCount))
            {
                // Note: rounded to the microsecond first, so that a bound of 0.4 s reads 400 ms and not 401 from the binary fraction.
                yield return (key, (long)Math.Ceiling(Math.Round(summary.QuantileSeconds * 1000, 3)), null);
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    private IEnumerable<Tracked> All() => _api.Concat(_federation).Concat(_federationClient).Concat(_audit);

    private void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (state is not List<Tracked> rules)
        {
            return;
        }

        var federation = ReferenceEquals(rules, _federation) || ReferenceEquals(rules, _federationClient);
        if (ReferenceEquals(rules, _audit))
        {
            foreach (var tracked in rules)
            {
                tracked.Record(AuditKey, seconds, _time.GetUtcNow());
            }

            return;
        }

        string? route = null;
        string? peer = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "http.route" when !federation:
                case "method" when federation:
                    route = Convert.ToString(tag.Value, CultureInfo.InvariantCulture);
                    break;
                case "peer" when federation:
                    peer = Convert.ToString(tag.Value, CultureInfo.InvariantCulture);
                    break;
            }
        }

        if (!federation && route is not null && _streamingRoutes.Value.Contains(route))
        {
            return;
        }

        var now = _time.GetUtcNow();
        var key = federation ? peer ?? "unknown" : ApiKey;
        foreach (var tracked in rules)
        {
            if (route is null || !tracked.Excludes(route))
            {
                tracked.Record(key, seconds, now);
            }
        }
    }

    private static HashSet<string> StreamingRoutes(IServiceProvider services)
    {
        var endpoints = services.GetService<EndpointDataSource>()?.Endpoints ?? [];
        return [.. endpoints.Where(e => e.Metadata.GetMetadata<AuditStreamingAttribute>() is not null)
            .Select(e => e.Metadata.GetMetadata<IRouteDiagnosticsMetadata>()?.Route ?? (e as RouteEndpoint)?.RoutePattern.RawText)
            .OfType<string>()];
    }

    /// <summary>One rule's windows by key.</summary>
    private sealed class Tracked(AlertRule rule)
    {
        private readonly Dictionary<string, LatencyWindow> _windows = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private readonly Wildcard[] _exclude = [.. rule.Exclude.Select(p => new Wildcard(p))];

        public AlertRule Rule => rule;

        public bool Excludes(string route) => _exclude.Any(r => r.IsMatch(route));

        public void Record(string key, double seconds, DateTimeOffset now)
        {
            LatencyWindow? window;
            lock (_gate)
            {
                if (!_windows.TryGetValue(key, out window))
                {
                    // Note: a bounded number of keys, so that a flood of peer names cannot exhaust memory.
                    key = _windows.Count >= MaxKeys ? AlertWindows.Overflow : key;
                    if (!_windows.TryGetValue(key, out window))
                    {
                        window = new LatencyWindow(rule.Window, rule.Threshold / 1000.0);
                        _windows[key] = window;
                    }
                }
            }

            window.Record(seconds, now);
        }

        public List<string> Keys()
        {
            lock (_gate)
            {
                return [.. _windows.Keys.Order(StringComparer.Ordinal)];
            }
        }

        public LatencySummary? Read(string key, DateTimeOffset now)
        {
            LatencyWindow? window;
            lock (_gate)
            {
                _windows.TryGetValue(key, out window);
            }

            return window?.Read(now, rule.LatencyQuantile);
        }
    }
}
