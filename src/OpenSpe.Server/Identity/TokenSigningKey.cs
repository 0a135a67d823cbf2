using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Identity;

/// <summary>The ES256 key that signs this SPE's access tokens; kept in the data directory (0600).</summary>
internal sealed class TokenSigningKey : IDisposable
{
    /// <summary>File name in the data directory.</summary>
    public const string FileName = "token-signing.key";

    private readonly ECDsa _key;

    private TokenSigningKey(ECDsa key)
    {
        _key = key;
        SecurityKey = new ECDsaSecurityKey(key) { KeyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16] };
    }

    /// <summary>The key as the token libraries want it.</summary>
    public ECDsaSecurityKey SecurityKey { get; }

    /// <summary>Loads the key, generating it on first start.</summary>
    public static TokenSigningKey LoadOrCreate(DataDirectory directory) => new(P256KeyFile.LoadOrCreate(directory, FileName));

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}

/// <summary>The AES-256 key that encrypts refresh tokens, authorization codes and device codes; kept in the data directory (0600).</summary>
internal static class TokenEncryptionKey
{
    /// <summary>File name in the data directory.</summary>
    public const string FileName = "token-encryption.key";

    /// <summary>Loads the key, generating it on first start.</summary>
    public static SymmetricSecurityKey LoadOrCreate(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = directory.File(FileName);
        byte[] key;
        if (File.Exists(path))
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        else
        {
            key = RandomNumberGenerator.GetBytes(32);
            directory.WriteSecret(FileName, Convert.ToBase64String(key));
        }

        return new SymmetricSecurityKey(key);
    }
}
