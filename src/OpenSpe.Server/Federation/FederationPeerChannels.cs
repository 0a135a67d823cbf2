using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The gRPC channels this node opens to its peers as a coordinator: TLS 1.3 with this node's own federation certificate, the
/// peer's certificate admitted by the same chain that admits callers (<see cref="FederationPeerAdmission"/>: the federation CA
/// alone, valid, not revoked, on the allow-list) and naming exactly the peer called. One channel per peer, kept for reuse; every
/// call on it is counted per peer (<see cref="FederationClientInterceptor"/>).
/// </summary>
internal sealed class FederationPeerChannels(FederationNodeIdentity node, FederationPeerAdmission admission, FederationMetrics metrics, FederationAudit audit,
    IOptions<FederationOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>
    /// A client for <paramref name="peer"/>, or null when <c>Federation:Peers</c> has no address for it; its stream messages are
    /// audited as part of <paramref name="scope"/>.
    /// </summary>
    public FederationApi.FederationClient? Client(string peer, FederationCallScope scope)
    {
        var address = options.Value.Peers.FirstOrDefault(p => string.Equals(p.Name, peer, StringComparison.Ordinal))?.Address;
        if (address is null)
        {
            return null;
        }

        return new FederationApi.FederationClient(_channels.GetOrAdd(peer, name => Open(name, new Uri(address))).Intercept(new FederationClientInterceptor(metrics, audit, peer, scope)));
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }

    private GrpcChannel Open(string peer, Uri address)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificates = new X509CertificateCollection { node.Certificate },
                // Note: the server is judged as a caller would be, and must be the very node the permit names, because a
                // certificate of another federation node (or any public CA's) must not receive the task.
                RemoteCertificateValidationCallback = (_, presented, _, _) => admission.Admit(presented) is { Admitted: true } admitted
                    && string.Equals(admitted.Peer, peer, StringComparison.Ordinal),
            },
            KeepAlivePingDelay = options.Value.KeepAlivePing,
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            EnableMultipleHttp2Connections = true,
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.Value.MaxMessageBytes,
            MaxSendMessageSize = options.Value.MaxMessageBytes,
        });
    }
}
