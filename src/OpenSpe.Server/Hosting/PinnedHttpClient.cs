using System.Security.Cryptography;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// An HTTPS client that trusts exactly one server certificate, named by its SHA-256 fingerprint (as
/// <see cref="TlsCertificates.Fingerprint"/> prints it; colons and case ignored), and no certificate authority: the external
/// identity providers' JWKS (<c>JwksCertificateFingerprint</c>) and the trusted permit issuers' keys (<c>KeysCertificateFingerprint</c>).
/// </summary>
internal static class PinnedHttpClient
{
    /// <summary>The fingerprint as compared: lower-case hex without separators.</summary>
    public static string Normalize(string fingerprint)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        return fingerprint.Replace(":", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
    }

    /// <summary>True when <paramref name="fingerprint"/> is a SHA-256 fingerprint (64 hex digits, colons allowed).</summary>
    public static bool IsFingerprint(string? fingerprint) =>
        fingerprint is not null && Normalize(fingerprint) is { Length: 64 } hex && hex.All(char.IsAsciiHexDigitLower);

    /// <summary>A client whose connections succeed only with the server certificate <paramref name="fingerprint"/> names.</summary>
    public static HttpClient Create(string fingerprint, TimeSpan timeout)
    {
        var expected = Normalize(fingerprint);
        var handler = new SocketsHttpHandler
        {
            // Note: the chain and the name are not what is trusted here, the pinned certificate is: a public CA or a DNS answer
            // can vouch for another server under the same name, but cannot make it present this certificate.
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == expected,
            },
        };
        return new HttpClient(handler) { Timeout = timeout };
    }
}
