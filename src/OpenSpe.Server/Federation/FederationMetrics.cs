using System.Diagnostics.Metrics;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Per-peer federation metrics (TIR-34), on the meter <c>OpenSpe.Federation</c>: calls by peer, method and status, their
/// duration, and refusals by peer and reason; an exporter or <c>dotnet-counters</c> reads them.
/// </summary>
internal sealed class FederationMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "OpenSpe.Federation";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _refusals;

    public FederationMetrics()
    {
        _calls = _meter.CreateCounter<long>("openspe.federation.calls", description: "Federation calls by peer, method and status.");
        _duration = _meter.CreateHistogram<double>("openspe.federation.call.duration", "s", "Federation call duration by peer and method.");
        _refusals = _meter.CreateCounter<long>("openspe.federation.refusals", description: "Refused federation peers and calls by peer and reason.");
    }

    public void Call(string peer, string method, string status, TimeSpan duration)
    {
        _calls.Add(1, new("peer", peer), new("method", method), new("status", status));
        _duration.Record(duration.TotalSeconds, new("peer", peer), new("method", method));
    }

    public void Refused(string peer, string reason) => _refusals.Add(1, new("peer", peer), new("reason", reason));

    public void Dispose() => _meter.Dispose();
}
