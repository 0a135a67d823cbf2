using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The gRPC channels this node opens to its peers as a coordinator: TLS 1.3 with this node's own federation certificate, the
/// peer's certificate admitted by the same chain that admits callers (<see cref="FederationPeerAdmission"/>: the federation CA
/// alone, valid, not revoked, on the allow-list) and naming exactly the peer called. One channel per peer, kept for reuse while
/// the certificates its peer presented on it are still admitted (checked before every call); every call on it is counted per
/// peer (<see cref="FederationClientInterceptor"/>).
/// </summary>
internal sealed class FederationPeerChannels(FederationNodeIdentity node, FederationPeerAdmission admission, FederationMetrics metrics, FederationAudit audit,
    IOptions<FederationOptions> options, ILogger<FederationPeerChannels> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, PeerChannel> _channels = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private ITimer? _sweep;

    /// <summary>
    /// A client for <paramref name="peer"/>, or null when <c>Federation:Peers</c> has no address for it; its stream messages are
    /// audited as part of <paramref name="scope"/>. Each call on it takes the peer's channel as it is then (<see cref="Channel"/>).
    /// </summary>
    public FederationApi.FederationClient? Client(string peer, FederationCallScope scope)
    {
        var address = options.Value.Peers.FirstOrDefault(p => string.Equals(p.Name, peer, StringComparison.Ordinal))?.Address;
        if (address is null)
        {
            return null;
        }

        var uri = new Uri(address);
        return new FederationApi.FederationClient(new FederationPeerCallInvoker(() => Channel(peer, uri)).Intercept(new FederationClientInterceptor(metrics, audit, peer, scope)));
    }

    /// <summary>
    /// The channel to <paramref name="peer"/> for the next call: the kept one while every certificate the peer presented on it is
    /// still admitted, else a new one (whose handshake decides again).
    /// </summary>
    /// <remarks>
    /// Note: judged again before every call, because an HTTP/2 connection outlives its handshake (keepalive pings keep it open for
    /// as long as it is used), so a peer revoked at the CA, or whose certificate expired, would otherwise go on receiving tasks over
    /// a connection it opened before. The kept channel is disposed, which cancels its calls still running: a revoked peer must not
    /// receive the rest of a stream either.
    /// </remarks>
    internal GrpcChannel Channel(string peer, Uri address)
    {
        while (true)
        {
            var kept = _channels.GetOrAdd(peer, name => Open(name, address));
            if (!CloseIfRefused(peer, kept))
            {
                return kept.Channel;
            }
        }
    }

    /// <summary>
    /// Closes every kept channel whose peer is no longer admitted, cancelling its calls still running: called every
    /// <see cref="FederationOptions.StreamRecheckInterval"/> while channels are kept, because a stream already open (a task's
    /// events, a training session) makes no new call that would judge the channel again.
    /// </summary>
    internal void Sweep()
    {
        foreach (var (peer, kept) in _channels)
        {
            CloseIfRefused(peer, kept);
        }
    }

    /// <summary>
    /// True when <paramref name="kept"/> is no longer admitted as <paramref name="peer"/>; it is then closed and forgotten, once,
    /// by whichever caller finds it first.
    /// </summary>
    private bool CloseIfRefused(string peer, PeerChannel kept)
    {
        if (kept.Refusal(admission, peer) is not { } refusal)
        {
            return false;
        }

        if (_channels.TryRemove(new KeyValuePair<string, PeerChannel>(peer, kept)))
        {
            FederationLog.PeerChannelClosed(logger, peer, refusal);
            kept.Channel.Dispose();
        }

        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _sweep?.Dispose();
        }

        foreach (var kept in _channels.Values)
        {
            kept.Channel.Dispose();
        }
    }

    private PeerChannel Open(string peer, Uri address)
    {
        lock (_gate)
        {
            var every = options.Value.StreamRecheckInterval;
            _sweep ??= TimeProvider.System.CreateTimer(_ => Sweep(), null, every, every);
        }

        var presented = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificates = new X509CertificateCollection { node.Certificate },
                // Note: the server is judged as a caller would be, and must be the very node the permit names, because a
                // certificate of another federation node (or any public CA's) must not receive the task. What it presented is
                // kept, so the channel can be judged again before each call.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (admission.Admit(certificate) is not { Admitted: true } admitted || !string.Equals(admitted.Peer, peer, StringComparison.Ordinal))
                    {
                        return false;
                    }

                    presented.TryAdd(certificate!.GetCertHashString(), certificate.GetRawCertData());
                    return true;
                },
            },
            KeepAlivePingDelay = options.Value.KeepAlivePing,
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            // Note: a bound on every connection's life as well, so no connection is used past it whatever the checks above decide.
            PooledConnectionLifetime = options.Value.PeerConnectionLifetime,
            EnableMultipleHttp2Connections = true,
        };
        return new PeerChannel(GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.Value.MaxMessageBytes,
            MaxSendMessageSize = options.Value.MaxMessageBytes,
        }), presented);
    }

    /// <summary>A kept channel and the certificates (raw, by thumbprint) its peer presented on its connections.</summary>
    private sealed class PeerChannel(GrpcChannel channel, ConcurrentDictionary<string, byte[]> presented)
    {
        public GrpcChannel Channel { get; } = channel;

        /// <summary>Why one of the certificates presented is no longer admitted as <paramref name="peer"/>, or null (none was refused, or none presented yet).</summary>
        public string? Refusal(FederationPeerAdmission admission, string peer)
        {
            foreach (var raw in presented.Values)
            {
                using var certificate = X509CertificateLoader.LoadCertificate(raw);
                var decision = admission.Admit(certificate);
                if (!decision.Admitted)
                {
                    return decision.Refusal;
                }

                if (!string.Equals(decision.Peer, peer, StringComparison.Ordinal))
                {
                    return PeerRefusalReasons.NamesDisagree;
                }
            }

            return null;
        }
    }
}
