using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenSpe.Server.Hosting;

/// <summary>Loads the server certificate, or in dev mode generates a self-signed one on first start and reuses it.</summary>
internal static class TlsCertificates
{
    /// <summary>Dev certificate file in the data directory.</summary>
    public const string DevCertificateName = "tls.crt";

    /// <summary>Dev key file in the data directory (0600).</summary>
    public const string DevKeyName = "tls.key";

    /// <summary>Loads a PEM certificate and key.</summary>
    public static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // Note: exporting to PKCS#12 and back gives a certificate whose key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>How long a generated dev certificate is valid: 397 days, the longest browsers accept for a server certificate.</summary>
    public static readonly TimeSpan DevValidity = TimeSpan.FromDays(397);

    /// <summary>Returns the dev certificate, generating it when missing or within 30 days of expiry.</summary>
    public static X509Certificate2 LoadOrCreateDev(DataDirectory directory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(time);
        var certificatePath = directory.File(DevCertificateName);
        var keyPath = directory.File(DevKeyName);
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            var existing = Load(certificatePath, keyPath);
            if (existing.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime.AddDays(30))
            {
                return existing;
            }

            existing.Dispose();
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=OpenSPE dev server", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(DevValidity));
        directory.WriteSecret(DevKeyName, key.ExportPkcs8PrivateKeyPem());
        directory.WritePublic(DevCertificateName, certificate.ExportCertificatePem());
        return Load(certificatePath, keyPath);
    }

    /// <summary>SHA-256 over the certificate's DER bytes, lower-case hex: what clients pin.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }
}
