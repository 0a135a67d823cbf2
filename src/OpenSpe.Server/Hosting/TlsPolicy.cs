using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// The server's TLS handshake policy: TLS 1.2 and 1.3 only, and only forward-secret AEAD cipher suites
/// (AES-GCM, ChaCha20-Poly1305 with ECDHE; TLS 1.3's own suites), on Linux through OpenSSL.
/// </summary>
internal static class TlsPolicy
{
    /// <summary>The protocol versions offered.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>The cipher suites offered, TLS 1.3 first.</summary>
    public static readonly IReadOnlyList<TlsCipherSuite> CipherSuites =
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>Applies the policy to one connection's handshake (Kestrel's <c>OnAuthenticate</c>).</summary>
    public static void Apply(ConnectionContext connection, SslServerAuthenticationOptions options)
    {
        // Note: AEAD suites only, because TLS 1.2's CBC suites (MAC-then-encrypt) are the ones padding-oracle
        // attacks (Lucky13 and its successors) target; every client this server serves speaks AES-GCM or ChaCha20.
        // The server runs on Linux; CipherSuitesPolicy is OpenSSL's (not available on Windows).
        if (OperatingSystem.IsLinux())
        {
            options.CipherSuitesPolicy = new CipherSuitesPolicy(CipherSuites);
        }
    }
}
