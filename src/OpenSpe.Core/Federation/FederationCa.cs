using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace OpenSpe.Core.Federation;

/// <summary>
/// The federation certificate authority kept in one directory (FSPER-1, TIR-30, TIR-31): its certificate (<c>ca.crt</c>), its key
/// (<c>ca.key</c>, 0600), the certificates it issued (<c>issued/NAME.crt</c>), and the revocation list the nodes read
/// (<c>ca.crl</c>, PEM, signed by the CA, a new CRL number on each change). Made with the BCL only (<see cref="CertificateRequest"/>,
/// <see cref="CertificateRevocationListBuilder"/>).
/// </summary>
public sealed class FederationCa : IDisposable
{
    /// <summary>The CA certificate's file name.</summary>
    public const string CertificateFile = "ca.crt";

    /// <summary>The CA key's file name.</summary>
    public const string KeyFile = "ca.key";

    /// <summary>The revocation list's file name.</summary>
    public const string CrlFile = "ca.crl";

    private const string IssuedDirectory = "issued";
    private const string RevokedFile = "revoked.json";

    /// <summary>How long a revocation list is current; nodes refuse every peer once it is older (fail closed).</summary>
    public static readonly TimeSpan CrlLifetime = TimeSpan.FromDays(30);

    private readonly string _directory;
    private readonly ECDsa _key;

    private FederationCa(string directory, X509Certificate2 certificate, ECDsa key)
    {
        _directory = Path.GetFullPath(directory);
        Certificate = certificate;
        _key = key;
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA's directory.</summary>
    public string Directory => _directory;

    /// <summary>Path of the revocation list.</summary>
    public string CrlPath => Path.Combine(_directory, CrlFile);

    /// <summary>Creates a new CA in <paramref name="directory"/> (which must not hold one) and its first, empty revocation list.</summary>
    /// <exception cref="FederationCaException">A CA is already there.</exception>
    public static FederationCa Create(string directory, string name, DateTimeOffset now, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        OwnerOnly.CreateDirectory(directory);
        OwnerOnly.RefuseShared(directory);
        if (File.Exists(Path.Combine(directory, CertificateFile)) || File.Exists(Path.Combine(directory, KeyFile)))
        {
            throw new FederationCaException($"{directory} already holds a federation CA; it is never overwritten");
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}, O=OpenSPE federation"), key, HashAlgorithmName.SHA384);
        // Note: pathLen 0 because the CA signs node certificates only; no intermediate it made could sign further.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var selfSigned = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(lifetime));
        var certificate = X509CertificateLoader.LoadCertificate(selfSigned.RawData);
        WriteOwnerOnly(Path.Combine(directory, KeyFile), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(directory, CertificateFile), certificate.ExportCertificatePem() + "\n");
        OwnerOnly.CreateDirectory(Path.Combine(directory, IssuedDirectory));
        var ca = new FederationCa(directory, certificate, key);
        ca.WriteCrl([], now);
        return ca;
    }

    /// <summary>Opens the CA in <paramref name="directory"/>.</summary>
    /// <exception cref="FederationCaException">No usable CA there.</exception>
    public static FederationCa Open(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var certificatePath = Path.Combine(directory, CertificateFile);
        var keyPath = Path.Combine(directory, KeyFile);
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            throw new FederationCaException($"{directory} holds no federation CA (run 'spe federation ca init --dir {directory}')");
        }

        OwnerOnly.RefuseShared(directory);

        var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(keyPath));
            using var publicKey = certificate.GetECDsaPublicKey();
            if (publicKey is null || !publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new FederationCaException($"{keyPath} is not the key of {certificatePath}");
            }
        }
        catch
        {
            key.Dispose();
            certificate.Dispose();
            throw;
        }

        return new FederationCa(directory, certificate, key);
    }

    /// <summary>
    /// Issues a node certificate for <paramref name="name"/> (subject CN and DNS SAN; usable as TLS client and server), writes
    /// <c>NAME.crt</c>, <c>NAME.key</c> (0600) and <c>ca.crt</c> into <paramref name="outDirectory"/>, and keeps a copy for revocation.
    /// </summary>
    /// <exception cref="FederationCaException">The name is not a node name, or its key file already exists.</exception>
    public X509Certificate2 Issue(string name, string outDirectory, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outDirectory);
        if (!FederationNames.IsValid(name))
        {
            throw new FederationCaException($"'{name}' is not a node name: lower-case letters, digits, dots and hyphens, at most 63 characters");
        }

        if (notAfter <= notBefore)
        {
            throw new FederationCaException("the certificate's validity ends before it starts");
        }

        OwnerOnly.CreateDirectory(outDirectory);
        OwnerOnly.RefuseShared(outDirectory);
        var keyPath = Path.Combine(outDirectory, name + ".key");
        if (File.Exists(keyPath))
        {
            throw new FederationCaException($"{keyPath} exists; a node key is never overwritten");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build(false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Note: both usages, because a node is the server of the calls it receives and the client of the calls it makes.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var caNotAfter = Certificate.NotAfter.ToUniversalTime();
        using var issued = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), notBefore,
            notAfter > caNotAfter ? caNotAfter : notAfter, serial);
        var pem = issued.ExportCertificatePem() + "\n";
        WriteOwnerOnly(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(outDirectory, name + ".crt"), pem);
        File.WriteAllText(Path.Combine(outDirectory, CertificateFile), Certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(_directory, IssuedDirectory, $"{name}-{issued.SerialNumber}.crt"), pem);
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    /// <summary>
    /// Revokes every certificate issued to <paramref name="name"/> and writes a new revocation list; returns the serial numbers
    /// revoked now (empty when all were revoked already).
    /// </summary>
    /// <exception cref="FederationCaException">The CA never issued a certificate to that name.</exception>
    public IReadOnlyList<string> Revoke(string name, DateTimeOffset now)
    {
        var issued = System.IO.Directory.EnumerateFiles(Path.Combine(_directory, IssuedDirectory), "*.crt")
            .Select(path => X509Certificate2.CreateFromPem(File.ReadAllText(path)))
            .Where(c => string.Equals(c.GetNameInfo(X509NameType.DnsName, false), name, StringComparison.Ordinal))
            .ToList();
        if (issued.Count == 0)
        {
            throw new FederationCaException($"this CA issued no certificate to '{name}'");
        }

        var revoked = ReadRevoked();
        var known = revoked.Select(r => r.Serial).ToHashSet(StringComparer.Ordinal);
        var added = issued.Select(c => c.SerialNumber).Where(s => !known.Contains(s)).ToList();
        foreach (var certificate in issued)
        {
            certificate.Dispose();
        }

        revoked.AddRange(added.Select(s => new RevokedEntry(s, name, now)));
        WriteCrl(revoked, now);
        return added;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }

    private List<RevokedEntry> ReadRevoked()
    {
        var path = Path.Combine(_directory, RevokedFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<List<RevokedEntry>>(File.ReadAllText(path), Json) ?? [] : [];
    }

    private void WriteCrl(List<RevokedEntry> revoked, DateTimeOffset now)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var entry in revoked)
        {
            builder.AddEntry(Convert.FromHexString(entry.Serial), entry.RevokedAt, X509RevocationReason.KeyCompromise);
        }

        var number = NextCrlNumber();
        var crl = builder.Build(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), number, now.Add(CrlLifetime), HashAlgorithmName.SHA384,
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false), now);
        File.WriteAllText(Path.Combine(_directory, RevokedFile), JsonSerializer.Serialize(revoked, Json));
        // Note: written to a temporary file and renamed, because nodes re-read the list when it changes and must never see half of one.
        var temporary = CrlPath + ".tmp";
        File.WriteAllText(temporary, PemEncoding.WriteString("X509 CRL", crl) + "\n");
        File.Move(temporary, CrlPath, overwrite: true);
    }

    private BigInteger NextCrlNumber()
    {
        if (!File.Exists(CrlPath))
        {
            return BigInteger.One;
        }

        var current = FederationCrl.Parse(File.ReadAllText(CrlPath), Certificate);
        return current.Number + 1;
    }

    private static void WriteOwnerOnly(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly.File;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
        writer.Write('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("=", "\\=", StringComparison.Ordinal).Replace("+", "\\+", StringComparison.Ordinal);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private sealed record RevokedEntry(string Serial, string Name, DateTimeOffset RevokedAt);

    private static class OwnerOnly
    {
        public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        public const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

        /// <summary>
        /// Refuses a directory that other users can write to. Note: <see cref="CreateDirectory"/> leaves the mode of an existing
        /// directory as it is, and in a shared one another user could plant a symbolic link at <c>ca.crl.tmp</c> (the CRL was
        /// then written over the file it named) or replace the certificate and revocation list the nodes are given.
        /// </summary>
        public static void RefuseShared(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                return;
            }

            var mode = System.IO.File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new FederationCaException($"{path} can be written by other users (mode {System.Convert.ToString((int)mode, 8)}); a CA's files go in a directory only its owner can write to (chmod go-w)");
            }
        }

        public static void CreateDirectory(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(path);
            }
            else
            {
                System.IO.Directory.CreateDirectory(path, Directory);
            }
        }
    }
}

/// <summary>A federation CA operation that cannot be done, with a message for the operator.</summary>
public sealed class FederationCaException(string message) : Exception(message);
