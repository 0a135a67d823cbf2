using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OpenSpe.Crypt4gh;

/// <summary>
/// The <c>c4gh-v1</c> private key encoding: magic, kdf name, [kdf options], cipher name, key blob, [comment],
/// each variable part a string with a 2-byte big-endian length prefix.
/// </summary>
internal static class KeyFile
{
    public const string CipherName = "chacha20_poly1305";
    private const string NoneName = "none";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static ReadOnlySpan<byte> Magic => "c4gh-v1"u8;

    public static byte[] Encode(ReadOnlySpan<byte> secret, string? passphrase, Crypt4ghKdf kdf, uint? rounds, string? comment)
    {
        using var output = new MemoryStream();
        output.Write(Magic);
        if (string.IsNullOrEmpty(passphrase) || kdf == Crypt4ghKdf.None)
        {
            if (!string.IsNullOrEmpty(passphrase))
            {
                throw new ArgumentException("A passphrase was given but the key derivation function is 'none'.", nameof(passphrase));
            }

            WriteString(output, Encoding.ASCII.GetBytes(NoneName));
            WriteString(output, Encoding.ASCII.GetBytes(NoneName));
            WriteString(output, secret);
        }
        else
        {
            var effectiveRounds = rounds ?? KeyDerivation.DefaultRounds(kdf);
            if (kdf != Crypt4ghKdf.Scrypt && effectiveRounds < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(rounds), "The key derivation function needs at least one round.");
            }

            Span<byte> options = stackalloc byte[4 + KeyDerivation.SaltSize];
            BinaryPrimitives.WriteUInt32BigEndian(options, kdf == Crypt4ghKdf.Scrypt ? 0 : effectiveRounds);
            RandomNumberGenerator.Fill(options[4..]);

            Span<byte> derived = stackalloc byte[KeyDerivation.DerivedKeySize];
            var passphraseBytes = Encoding.UTF8.GetBytes(passphrase);
            var blob = new byte[NonceSize + secret.Length + TagSize];
            try
            {
                KeyDerivation.Derive(kdf, passphraseBytes, options[4..], effectiveRounds, derived);
                RandomNumberGenerator.Fill(blob.AsSpan(0, NonceSize));
                using (var aead = new ChaCha20Poly1305(derived))
                {
                    aead.Encrypt(blob.AsSpan(0, NonceSize), secret, blob.AsSpan(NonceSize, secret.Length), blob.AsSpan(NonceSize + secret.Length));
                }

                WriteString(output, Encoding.ASCII.GetBytes(KeyDerivation.Name(kdf)));
                WriteString(output, options);
                WriteString(output, Encoding.ASCII.GetBytes(CipherName));
                WriteString(output, blob);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(derived);
                CryptographicOperations.ZeroMemory(passphraseBytes);
            }
        }

        if (comment is not null)
        {
            WriteString(output, Encoding.UTF8.GetBytes(comment));
        }

        return output.ToArray();
    }

    /// <summary>Decodes (and unlocks) a <c>c4gh-v1</c> key; the caller owns and must clear the returned secret.</summary>
    public static (byte[] Secret, string? Comment, Crypt4ghKdf Kdf) Decode(ReadOnlySpan<byte> data, Func<string>? passphraseCallback)
    {
        if (!data.StartsWith(Magic))
        {
            throw Pem.BadKey("The private key does not start with 'c4gh-v1' (OpenSSH keys are not supported).");
        }

        var reader = new SpanReader(data[Magic.Length..]);
        var kdfName = Encoding.ASCII.GetString(reader.ReadString());
        var kdf = KeyDerivation.FromName(kdfName)
            ?? throw new Crypt4ghException(Crypt4ghErrorKind.UnsupportedKeyFormat, $"The private key uses the unsupported key derivation function '{kdfName}'.");

        uint rounds = 0;
        var salt = ReadOnlySpan<byte>.Empty;
        if (kdf != Crypt4ghKdf.None)
        {
            // The reference writes rounds (4 bytes, big-endian) then the salt for every kdf, scrypt included (rounds 0).
            var options = reader.ReadString();
            if (options.Length < 4 + 1)
            {
                throw Pem.BadKey("The key derivation options of the private key are too short.");
            }

            rounds = BinaryPrimitives.ReadUInt32BigEndian(options);
            salt = options[4..];
        }

        var cipherName = Encoding.ASCII.GetString(reader.ReadString());
        var blob = reader.ReadString();
        string? comment = null;
        if (reader.Remaining > 0)
        {
            comment = Encoding.UTF8.GetString(reader.ReadString());
        }

        if (cipherName == NoneName)
        {
            if (kdf != Crypt4ghKdf.None)
            {
                throw Pem.BadKey($"The private key names kdf '{kdfName}' but cipher 'none'.");
            }

            if (blob.Length != Crypt4ghPublicKey.KeySize)
            {
                throw Pem.BadKey($"An unencrypted private key holds 32 bytes, this one {blob.Length}.");
            }

            return (blob.ToArray(), comment, kdf);
        }

        if (cipherName != CipherName)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.UnsupportedKeyFormat, $"The private key is locked with the unsupported cipher '{cipherName}'.");
        }

        if (kdf == Crypt4ghKdf.None)
        {
            throw Pem.BadKey("The private key is encrypted but names no key derivation function.");
        }

        if (blob.Length != NonceSize + Crypt4ghPublicKey.KeySize + TagSize)
        {
            throw Pem.BadKey($"An encrypted private key blob is {NonceSize + Crypt4ghPublicKey.KeySize + TagSize} bytes, this one {blob.Length}.");
        }

        if (passphraseCallback is null)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.PassphraseRequired, "The private key is locked with a passphrase and none was supplied.");
        }

        var passphrase = passphraseCallback() ?? throw new Crypt4ghException(Crypt4ghErrorKind.PassphraseRequired, "The passphrase callback returned no passphrase.");
        var passphraseBytes = Encoding.UTF8.GetBytes(passphrase);
        Span<byte> derived = stackalloc byte[KeyDerivation.DerivedKeySize];
        var secret = new byte[Crypt4ghPublicKey.KeySize];
        try
        {
            KeyDerivation.Derive(kdf, passphraseBytes, salt, rounds, derived);
            using var aead = new ChaCha20Poly1305(derived);
            aead.Decrypt(blob[..NonceSize], blob[NonceSize..^TagSize], blob[^TagSize..], secret);
            return (secret, comment, kdf);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.WrongPassphrase, "The passphrase does not unlock the private key.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
            CryptographicOperations.ZeroMemory(passphraseBytes);
        }
    }

    private static void WriteString(Stream output, ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentException("A key file string is at most 65,535 bytes.", nameof(value));
        }

        Span<byte> prefix = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(prefix, (ushort)value.Length);
        output.Write(prefix);
        output.Write(value);
    }

    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public readonly int Remaining => _data.Length;

        public ReadOnlySpan<byte> ReadString()
        {
            if (_data.Length < 2)
            {
                throw Pem.BadKey("The private key ends early.");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(_data);
            if (_data.Length < 2 + length)
            {
                throw Pem.BadKey("The private key ends inside a field.");
            }

            var value = _data.Slice(2, length);
            _data = _data[(2 + length)..];
            return value;
        }
    }
}
