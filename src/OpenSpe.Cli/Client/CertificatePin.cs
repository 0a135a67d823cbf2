using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenSpe.Cli.Client;

/// <summary>Server certificate pins: SHA-256 over the certificate's DER bytes, as <c>spe server</c> prints it ("TLS SHA-256").</summary>
internal static class CertificatePin
{
    private const int HexLength = SHA256.HashSizeInBytes * 2;

    /// <summary>
    /// Normalises a pin to 64 lower-case hex digits. Colons, spaces and case are accepted because
    /// browsers and <c>openssl x509 -fingerprint</c> print the colon-separated upper-case form.
    /// </summary>
    public static bool TryNormalize(string? input, out string fingerprint)
    {
        fingerprint = "";
        if (string.IsNullOrWhiteSpace(input))
        {
            return false;
        }

        var hex = string.Concat(input.Where(c => c != ':' && !char.IsWhiteSpace(c)));
        if (hex.Length != HexLength || !hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        fingerprint = hex.ToLowerInvariant();
        return true;
    }

    /// <summary>Normalises a pin given on the command line; a malformed one is a usage error.</summary>
    public static string Normalize(string input) => TryNormalize(input, out var fingerprint)
        ? fingerprint
        : throw new SpeUsageException("--ca-fingerprint must be the SHA-256 of the server certificate: 64 hex digits, colons optional");

    /// <summary>The pin of <paramref name="certificate"/>.</summary>
    public static string Of(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()));
    }

    /// <summary>True when <paramref name="certificate"/> is the pinned one. Comparison is constant-time out of habit; pins are not secret.</summary>
    public static bool Matches(X509Certificate? certificate, string pin) =>
        certificate is not null && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(Of(certificate)), System.Text.Encoding.ASCII.GetBytes(pin));
}
