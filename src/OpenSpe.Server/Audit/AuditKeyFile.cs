using OpenSpe.Core.Audit;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Audit;

/// <summary>Where the checkpoint-signing key lives in the data directory.</summary>
internal static class AuditKeyFile
{
    /// <summary>Private key file (PKCS#8 PEM, 0600).</summary>
    public const string PrivateKeyName = "audit-signing.key";

    /// <summary>Public key file (SPKI PEM), the same bytes that <c>spe audit public-key</c> prints.</summary>
    public const string PublicKeyName = "audit-signing.pub";

    /// <summary>Loads the signing key, generating it on first start.</summary>
    public static AuditSigningKey LoadOrCreate(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = directory.File(PrivateKeyName);
        if (File.Exists(path))
        {
            return AuditSigningKey.FromPem(File.ReadAllText(path));
        }

        var key = AuditSigningKey.Generate();
        directory.WriteSecret(PrivateKeyName, key.ExportPrivateKeyPem());
        directory.WritePublic(PublicKeyName, key.ExportPublicKeyPem());
        return key;
    }

    /// <summary>Loads the public key for verification (from the data directory unless a file is named).</summary>
    public static AuditSigningKey LoadPublic(DataDirectory directory, string? publicKeyPath = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (publicKeyPath is not null)
        {
            return AuditSigningKey.FromPem(File.ReadAllText(publicKeyPath));
        }

        var pub = directory.File(PublicKeyName);
        if (File.Exists(pub))
        {
            return AuditSigningKey.FromPem(File.ReadAllText(pub));
        }

        using var full = AuditSigningKey.FromPem(File.ReadAllText(directory.File(PrivateKeyName)));
        return AuditSigningKey.FromPem(full.ExportPublicKeyPem());
    }
}
