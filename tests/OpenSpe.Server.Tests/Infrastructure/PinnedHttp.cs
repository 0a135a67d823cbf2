using System.Net;
using System.Security.Cryptography;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>HTTP clients that trust exactly one certificate, by SHA-256 fingerprint, as `spe login --ca-fingerprint` will.</summary>
public static class PinnedHttp
{
    public static HttpClient Create(Uri baseAddress, string fingerprint, Version? version = null)
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
        return new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            DefaultRequestVersion = version ?? HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }
}
