using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>HTTP clients that trust exactly one certificate, by SHA-256 fingerprint, as `spe login --ca-fingerprint` will.</summary>
public static class PinnedHttp
{
    /// <remarks><paramref name="source"/> binds the client's end to that loopback address (127.0.0.0/8), so the server sees another source address.</remarks>
    public static HttpClient Create(Uri baseAddress, string fingerprint, Version? version = null, IPAddress? source = null)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == fingerprint,
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
        if (source is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            DefaultRequestVersion = version ?? HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }
}
