using System.Security.Cryptography;
using NSec.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>
/// An X25519 private key that reads (or writes) Crypt4GH headers, held in libsodium's guarded memory.
/// Loads and writes the <c>c4gh-v1</c> key format of the GA4GH reference implementation.
/// </summary>
public sealed class Crypt4ghPrivateKey : IDisposable
{
    /// <summary>The size of a private key in bytes.</summary>
    public const int KeySize = 32;

    private static readonly KeyAgreementAlgorithm X25519 = KeyAgreementAlgorithm.X25519;
    private readonly Key _key;

    private Crypt4ghPrivateKey(Key key, string? comment)
    {
        _key = key;
        Comment = comment;
        PublicKey = Crypt4ghPublicKey.FromBytes(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>The matching public key, which writers encrypt headers for.</summary>
    public Crypt4ghPublicKey PublicKey { get; }

    /// <summary>The comment stored in the key file, if any.</summary>
    public string? Comment { get; }

    /// <summary>Creates a new random key pair.</summary>
    /// <param name="comment">An optional comment to store with the key when it is written.</param>
    public static Crypt4ghPrivateKey Generate(string? comment = null) =>
        new(Key.Create(X25519, ExportableKey()), comment);

    /// <summary>Makes a private key from its 32 raw bytes.</summary>
    /// <param name="secret">The X25519 private scalar.</param>
    /// <param name="comment">An optional comment.</param>
    public static Crypt4ghPrivateKey FromBytes(ReadOnlySpan<byte> secret, string? comment = null)
    {
        if (secret.Length != KeySize)
        {
            throw new ArgumentException($"A Crypt4GH private key is {KeySize} bytes, not {secret.Length}.", nameof(secret));
        }

        return new(Key.Import(X25519, secret, KeyBlobFormat.RawPrivateKey, ExportableKey()), comment);
    }

    /// <summary>
    /// Reads a private key from the text of a <c>-----BEGIN CRYPT4GH PRIVATE KEY-----</c> (or
    /// <c>CRYPT4GH ENCRYPTED PRIVATE KEY</c>) file, unlocking it with a passphrase when it is encrypted.
    /// </summary>
    /// <param name="pem">The armoured key text.</param>
    /// <param name="passphraseCallback">Called only if the key is locked; returns its passphrase.</param>
    /// <exception cref="Crypt4ghException">
    /// <see cref="Crypt4ghErrorKind.BadKeyFile"/>, <see cref="Crypt4ghErrorKind.UnsupportedKeyFormat"/>,
    /// <see cref="Crypt4ghErrorKind.PassphraseRequired"/> or <see cref="Crypt4ghErrorKind.WrongPassphrase"/>.
    /// </exception>
    public static Crypt4ghPrivateKey Parse(string pem, Func<string>? passphraseCallback = null)
    {
        var (label, data) = Pem.Decode(pem);
        if (label != Pem.PrivateKeyLabel && label != Pem.EncryptedPrivateKeyLabel)
        {
            throw Pem.BadKey($"Expected a '{Pem.PrivateKeyLabel}', found '{label}'.");
        }

        try
        {
            return FromKeyFileBytes(data, passphraseCallback);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    /// <summary>Reads a private key file; see <see cref="Parse"/>.</summary>
    /// <param name="path">The key file.</param>
    /// <param name="passphraseCallback">Called only if the key is locked; returns its passphrase.</param>
    public static Crypt4ghPrivateKey Load(string path, Func<string>? passphraseCallback = null) =>
        Parse(File.ReadAllText(path), passphraseCallback);

    /// <summary>Decodes the binary <c>c4gh-v1</c> form of a private key (the base64 content of the key file).</summary>
    /// <param name="keyFileBytes">The decoded key file content, starting with <c>c4gh-v1</c>.</param>
    /// <param name="passphraseCallback">Called only if the key is locked; returns its passphrase.</param>
    public static Crypt4ghPrivateKey FromKeyFileBytes(ReadOnlySpan<byte> keyFileBytes, Func<string>? passphraseCallback = null)
    {
        var (secret, comment, _) = KeyFile.Decode(keyFileBytes, passphraseCallback);
        try
        {
            return FromBytes(secret, comment);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// Writes the key in the <c>c4gh-v1</c> format. With a passphrase the key is encrypted with ChaCha20-Poly1305
    /// under a key derived by <paramref name="kdf"/> (scrypt by default) and armoured as
    /// <c>CRYPT4GH ENCRYPTED PRIVATE KEY</c>; without one it is stored in the clear as <c>CRYPT4GH PRIVATE KEY</c>.
    /// </summary>
    /// <param name="passphrase">The passphrase, or null or empty for an unencrypted key.</param>
    /// <param name="kdf">The key derivation function for an encrypted key.</param>
    /// <param name="rounds">Rounds for bcrypt (default 100) or PBKDF2 (default 100,000); ignored for scrypt.</param>
    public string ToPem(string? passphrase = null, Crypt4ghKdf kdf = Crypt4ghKdf.Scrypt, uint? rounds = null)
    {
        var encrypted = !string.IsNullOrEmpty(passphrase);
        var bytes = ToKeyFileBytes(passphrase, encrypted ? kdf : Crypt4ghKdf.None, rounds);
        try
        {
            return Pem.Encode(encrypted ? Pem.EncryptedPrivateKeyLabel : Pem.PrivateKeyLabel, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The binary <c>c4gh-v1</c> form that <see cref="ToPem"/> armours.</summary>
    /// <param name="passphrase">The passphrase, or null or empty for an unencrypted key.</param>
    /// <param name="kdf">The key derivation function for an encrypted key.</param>
    /// <param name="rounds">Rounds for bcrypt or PBKDF2; ignored for scrypt.</param>
    public byte[] ToKeyFileBytes(string? passphrase = null, Crypt4ghKdf kdf = Crypt4ghKdf.Scrypt, uint? rounds = null)
    {
        var secret = ExportSecret();
        try
        {
            return KeyFile.Encode(secret, passphrase, string.IsNullOrEmpty(passphrase) ? Crypt4ghKdf.None : kdf, rounds, Comment);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Writes <see cref="ToPem"/> to a new file readable only by its owner (on Unix).</summary>
    /// <param name="path">Where to write; an existing file is replaced.</param>
    /// <param name="passphrase">The passphrase, or null or empty for an unencrypted key.</param>
    /// <param name="kdf">The key derivation function for an encrypted key.</param>
    /// <param name="rounds">Rounds for bcrypt or PBKDF2; ignored for scrypt.</param>
    public void Save(string path, string? passphrase = null, Crypt4ghKdf kdf = Crypt4ghKdf.Scrypt, uint? rounds = null)
    {
        var text = ToPem(passphrase, kdf, rounds);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    /// <summary>Erases the key from memory.</summary>
    public void Dispose() => _key.Dispose();

    /// <summary>The raw private scalar; the caller must clear it.</summary>
    internal byte[] ExportSecret() => _key.Export(KeyBlobFormat.RawPrivateKey);

    /// <summary>
    /// K_shared = first 32 bytes of BLAKE2b-512(X25519(own secret, peer) || K_reader_public || K_writer_public).
    /// Returns false if the peer key yields an all-zero Diffie-Hellman result.
    /// </summary>
    internal bool TryDeriveSharedKey(ReadOnlySpan<byte> peerPublicKey, bool selfIsReader, Span<byte> sharedKey)
    {
        if (!NSec.Cryptography.PublicKey.TryImport(X25519, peerPublicKey, KeyBlobFormat.RawPublicKey, out var peer) || peer is null)
        {
            return false;
        }

        SharedSecret? secret;
        try
        {
            secret = X25519.Agree(_key, peer, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        }
        catch (CryptographicException)
        {
            return false;
        }

        if (secret is null)
        {
            return false;
        }

        Span<byte> input = stackalloc byte[32 + (2 * Crypt4ghPublicKey.KeySize)];
        Span<byte> digest = stackalloc byte[64];
        try
        {
            using (secret)
            {
                if (!secret.TryExport(SharedSecretBlobFormat.RawSharedSecret, input[..32], out var written) || written != 32)
                {
                    return false;
                }
            }

            var reader = selfIsReader ? PublicKey.Bytes : peerPublicKey;
            var writer = selfIsReader ? peerPublicKey : PublicKey.Bytes;
            reader.CopyTo(input.Slice(32, 32));
            writer.CopyTo(input.Slice(64, 32));

            // BLAKE2b-512 truncated to 32 bytes: not the same as BLAKE2b with a 32-byte output.
            NSec.Cryptography.HashAlgorithm.Blake2b_512.Hash(input, digest);
            digest[..32].CopyTo(sharedKey);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(digest);
        }
    }

    private static KeyCreationParameters ExportableKey() =>
        new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
}
