using System.Security.Cryptography;

namespace OpenSpe.Core.Audit;

/// <summary>
/// The key that signs audit checkpoints: ECDSA P-256 with SHA-256. Its public half is what an
/// auditor keeps apart from the server, so that a copy of the data directory can be checked
/// against a key the attacker could not replace.
/// </summary>
public sealed class AuditSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private AuditSigningKey(ECDsa key, bool hasPrivateKey)
    {
        _key = key;
        HasPrivateKey = hasPrivateKey;
        KeyId = ComputeKeyId(key);
    }

    /// <summary>Short identifier: the first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo.</summary>
    public string KeyId { get; }

    /// <summary>True when this instance can sign.</summary>
    public bool HasPrivateKey { get; }

    /// <summary>Generates a new key pair.</summary>
    public static AuditSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), true);

    /// <summary>Loads a private key (PKCS#8 PEM) or a public key (SPKI PEM).</summary>
    public static AuditSigningKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            // Note: only NIST P-256 (secp256r1); other 256-bit curves such as secp256k1 would also have KeySize 256.
            if (key.ExportParameters(false).Curve.Oid?.Value != "1.2.840.10045.3.1.7")
            {
                throw new CryptographicException("The audit signing key must be ECDSA P-256.");
            }

            var hasPrivate = pem.Contains("PRIVATE KEY", StringComparison.Ordinal);
            return new AuditSigningKey(key, hasPrivate);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The private key as PKCS#8 PEM.</summary>
    public string ExportPrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>The public key as SubjectPublicKeyInfo PEM.</summary>
    public string ExportPublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>Signs a checkpoint over the given head.</summary>
    public AuditCheckpoint Sign(long sequence, ReadOnlySpan<byte> hash, long timestampMicros, string kind)
    {
        if (!HasPrivateKey)
        {
            throw new InvalidOperationException("This audit key holds only the public half.");
        }

        var payload = AuditCheckpoint.Payload(sequence, hash, timestampMicros, kind, KeyId);
        var signature = _key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new AuditCheckpoint(sequence, hash.ToArray(), timestampMicros, kind, KeyId, signature);
    }

    /// <summary>True when the checkpoint was signed by this key and is unchanged.</summary>
    public bool Verify(AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!string.Equals(checkpoint.KeyId, KeyId, StringComparison.Ordinal) || checkpoint.Hash.Length != AuditCanonicalForm.HashSize)
        {
            return false;
        }

        return _key.VerifyData(checkpoint.SignedPayload(), checkpoint.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();

    private static string ComputeKeyId(ECDsa key) =>
        Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
}
