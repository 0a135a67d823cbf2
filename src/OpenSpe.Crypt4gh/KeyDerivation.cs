using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>A key derivation function that locks a Crypt4GH private key with a passphrase.</summary>
public enum Crypt4ghKdf
{
    /// <summary>No passphrase: the private key is stored in the clear (kdf name <c>none</c>).</summary>
    None = 0,

    /// <summary>scrypt with N = 2^14, r = 8, p = 1 (kdf name <c>scrypt</c>); the default, as in the reference implementation.</summary>
    Scrypt,

    /// <summary>OpenSSH's bcrypt_pbkdf (kdf name <c>bcrypt</c>), 100 rounds by default.</summary>
    Bcrypt,

    /// <summary>PBKDF2 with HMAC-SHA-256 (kdf name <c>pbkdf2_hmac_sha256</c>), 100,000 iterations by default.</summary>
    Pbkdf2HmacSha256,
}

/// <summary>The key derivation functions of the <c>c4gh-v1</c> key format.</summary>
internal static class KeyDerivation
{
    public const int SaltSize = 16;
    public const int DerivedKeySize = 32;
    public const int ScryptCost = 1 << 14;
    public const int ScryptBlockSize = 8;
    public const int ScryptParallelization = 1;
    public const uint DefaultBcryptRounds = 100;
    public const uint DefaultPbkdf2Iterations = 100_000;

    // Upper bounds so that a hostile key file cannot make loading it take hours.
    private const uint MaxBcryptRounds = 1 << 16;
    private const uint MaxPbkdf2Iterations = 1 << 26;

    public static string Name(Crypt4ghKdf kdf) => kdf switch
    {
        Crypt4ghKdf.None => "none",
        Crypt4ghKdf.Scrypt => "scrypt",
        Crypt4ghKdf.Bcrypt => "bcrypt",
        Crypt4ghKdf.Pbkdf2HmacSha256 => "pbkdf2_hmac_sha256",
        _ => throw new ArgumentOutOfRangeException(nameof(kdf), kdf, "Unknown key derivation function."),
    };

    public static Crypt4ghKdf? FromName(string name) => name switch
    {
        "none" => Crypt4ghKdf.None,
        "scrypt" => Crypt4ghKdf.Scrypt,
        "bcrypt" => Crypt4ghKdf.Bcrypt,
        "pbkdf2_hmac_sha256" => Crypt4ghKdf.Pbkdf2HmacSha256,
        _ => null,
    };

    public static uint DefaultRounds(Crypt4ghKdf kdf) => kdf switch
    {
        Crypt4ghKdf.Bcrypt => DefaultBcryptRounds,
        Crypt4ghKdf.Pbkdf2HmacSha256 => DefaultPbkdf2Iterations,
        _ => 0,
    };

    public static void Derive(Crypt4ghKdf kdf, ReadOnlySpan<byte> passphrase, ReadOnlySpan<byte> salt, uint rounds, Span<byte> output)
    {
        switch (kdf)
        {
            case Crypt4ghKdf.Scrypt:
                // NSec's scrypt only takes 32-byte salts; c4gh-v1 files carry 16-byte ones, so BouncyCastle's is used.
                var passphraseCopy = passphrase.ToArray();
                try
                {
                    var derived = Org.BouncyCastle.Crypto.Generators.SCrypt.Generate(
                        passphraseCopy, salt.ToArray(), ScryptCost, ScryptBlockSize, ScryptParallelization, output.Length);
                    derived.CopyTo(output);
                    CryptographicOperations.ZeroMemory(derived);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(passphraseCopy);
                }

                break;
            case Crypt4ghKdf.Bcrypt:
                if (rounds < 1 || rounds > MaxBcryptRounds)
                {
                    throw new Crypt4ghException(Crypt4ghErrorKind.BadKeyFile, $"The key file asks for {rounds} bcrypt rounds; 1 to {MaxBcryptRounds} are accepted.");
                }

                BcryptPbkdf.Derive(passphrase, salt, rounds, output);
                break;
            case Crypt4ghKdf.Pbkdf2HmacSha256:
                if (rounds < 1 || rounds > MaxPbkdf2Iterations)
                {
                    throw new Crypt4ghException(Crypt4ghErrorKind.BadKeyFile, $"The key file asks for {rounds} PBKDF2 iterations; 1 to {MaxPbkdf2Iterations} are accepted.");
                }

                Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, output, (int)rounds, HashAlgorithmName.SHA256);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kdf), kdf, "This key derivation function takes no passphrase.");
        }
    }
}
