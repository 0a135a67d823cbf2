using System.Diagnostics.Metrics;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Per-peer federation metrics (TIR-34), on the meter <c>OpenSpe.Federation</c>, exported at <c>/metrics</c>: calls served by
/// peer, method and status, their duration, the serialized message bytes received from and sent to each peer, and refusals by
/// peer and reason; and the same for the calls this node makes to its peers as a coordinator (<c>openspe.federation.client.*</c>).
/// </summary>
/// <remarks>
/// Note: the meter comes from the host's <see cref="IMeterFactory"/>, as the <c>OpenSpe</c> meter does, so that each host (and
/// each test server in one process) has its own, and a listener can select this host's instruments by the meter's scope.
/// </remarks>
internal sealed class FederationMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "OpenSpe.Federation";

    /// <summary>The <c>peer</c> tag of a refused party whose name is not on the allow-list (or who has none).</summary>
    /// <remarks>Note: an underscore, because a node name is a DNS name and cannot contain one, so no node is mistaken for it.</remarks>
    public const string OtherPeer = "_other";

    private readonly HashSet<string> _allowed;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _clientCalls;
    private readonly Histogram<double> _clientDuration;
    private readonly Counter<long> _clientBytes;

    /// <summary>Creates the instruments on this host's meter; <paramref name="allowedPeers"/> are the only peer names a tag carries.</summary>
    public FederationMetrics(IMeterFactory meters, IEnumerable<string> allowedPeers)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(allowedPeers);
        _allowed = new(allowedPeers, StringComparer.Ordinal);
        var meter = meters.Create(MeterName);
        _calls = meter.CreateCounter<long>("openspe.federation.calls", "{call}", "Federation calls served by peer, method and status.");
        _duration = meter.CreateHistogram<double>("openspe.federation.call.duration", "s", "Federation call duration by peer and method.");
        _refusals = meter.CreateCounter<long>("openspe.federation.refusals", "{refusal}", "Refused federation peers and calls by peer and reason.");
        _bytes = meter.CreateCounter<long>("openspe.federation.bytes", "By",
            "Serialized federation message bytes by peer, method and direction (received from the peer, sent to it).");
        _clientCalls = meter.CreateCounter<long>("openspe.federation.client.calls", "{call}", "Federation calls this node made to a peer, by peer, method and status.");
        _clientDuration = meter.CreateHistogram<double>("openspe.federation.client.call.duration", "s", "Duration of the federation calls this node made, by peer and method.");
        _clientBytes = meter.CreateCounter<long>("openspe.federation.client.bytes", "By",
            "Serialized message bytes of the federation calls this node made, by peer, method and direction (sent to the peer, received from it).");
    }

    public void Call(string peer, string method, string status, TimeSpan duration)
    {
        var tag = Peer(peer);
        _calls.Add(1, new("peer", tag), new("method", method), new("status", status));
        _duration.Record(duration.TotalSeconds, new("peer", tag), new("method", method));
    }

    public void Refused(string? peer, string reason) => _refusals.Add(1, new("peer", Peer(peer)), new("reason", reason));

    /// <summary>Counts <paramref name="bytes"/> of messages received from <paramref name="peer"/>.</summary>
    public void Received(string peer, string method, long bytes) =>
        _bytes.Add(bytes, new("peer", Peer(peer)), new("method", method), new("direction", "received"));

    /// <summary>Counts <paramref name="bytes"/> of messages sent to <paramref name="peer"/>.</summary>
    public void Sent(string peer, string method, long bytes) =>
        _bytes.Add(bytes, new("peer", Peer(peer)), new("method", method), new("direction", "sent"));

    /// <summary>Counts a call this node made to <paramref name="peer"/> once it ended with <paramref name="status"/>.</summary>
    public void ClientCall(string peer, string method, string status, TimeSpan duration)
    {
        var tag = Peer(peer);
        _clientCalls.Add(1, new("peer", tag), new("method", method), new("status", status));
        _clientDuration.Record(duration.TotalSeconds, new("peer", tag), new("method", method));
    }

    /// <summary>Counts <paramref name="bytes"/> of messages this node sent to <paramref name="peer"/> in a call it made.</summary>
    public void ClientSent(string peer, string method, long bytes) =>
        _clientBytes.Add(bytes, new("peer", Peer(peer)), new("method", method), new("direction", "sent"));

    /// <summary>Counts <paramref name="bytes"/> of messages this node received from <paramref name="peer"/> in a call it made.</summary>
    public void ClientReceived(string peer, string method, long bytes) =>
        _clientBytes.Add(bytes, new("peer", Peer(peer)), new("method", method), new("direction", "received"));

    /// <summary>The peer's tag value: its name when on the allow-list, <see cref="OtherPeer"/> otherwise.</summary>
    /// <remarks>
    /// Note: a refused party names itself (its certificate's name, or only its address), so that name is not a tag value:
    /// anyone who can open a TLS connection could otherwise add series without end. The allow-list bounds the tags; the
    /// audit record keeps the refused party's name and address.
    /// </remarks>
    public string Peer(string? peer) => peer is not null && _allowed.Contains(peer) ? peer : OtherPeer;
}
