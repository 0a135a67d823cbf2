using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>A reader's or writer's X25519 public key (32 bytes), as stored in <c>CRYPT4GH PUBLIC KEY</c> files.</summary>
public sealed class Crypt4ghPublicKey : IEquatable<Crypt4ghPublicKey>
{
    /// <summary>The size of a public key in bytes.</summary>
    public const int KeySize = 32;

    private readonly byte[] _bytes;

    private Crypt4ghPublicKey(byte[] bytes)
    {
        _bytes = bytes;
    }

    /// <summary>The 32 raw key bytes (an X25519 u-coordinate).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The lowercase hexadecimal SHA-256 of the 32 key bytes: a short name for the key.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(_bytes));

    /// <summary>Makes a public key from its 32 raw bytes.</summary>
    /// <param name="bytes">The X25519 public key.</param>
    /// <exception cref="ArgumentException">The key is not 32 bytes long.</exception>
    public static Crypt4ghPublicKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != KeySize)
        {
            throw new ArgumentException($"A Crypt4GH public key is {KeySize} bytes, not {bytes.Length}.", nameof(bytes));
        }

        return new Crypt4ghPublicKey(bytes.ToArray());
    }

    /// <summary>Reads a public key from the text of a <c>-----BEGIN CRYPT4GH PUBLIC KEY-----</c> file.</summary>
    /// <param name="pem">The armoured key text.</param>
    /// <exception cref="Crypt4ghException">Kind <see cref="Crypt4ghErrorKind.BadKeyFile"/> when the text is not such a key.</exception>
    public static Crypt4ghPublicKey Parse(string pem)
    {
        var (label, data) = Pem.Decode(pem);
        if (label != Pem.PublicKeyLabel)
        {
            throw Pem.BadKey($"Expected a '{Pem.PublicKeyLabel}', found '{label}'.");
        }

        if (data.Length != KeySize)
        {
            throw Pem.BadKey($"A Crypt4GH public key holds {KeySize} bytes, this one {data.Length}.");
        }

        return new Crypt4ghPublicKey(data);
    }

    /// <summary>Reads a public key file.</summary>
    /// <param name="path">The path of a <c>CRYPT4GH PUBLIC KEY</c> file.</param>
    public static Crypt4ghPublicKey Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Writes the key as a <c>-----BEGIN CRYPT4GH PUBLIC KEY-----</c> block, as the reference implementation does.</summary>
    public string ToPem() => Pem.Encode(Pem.PublicKeyLabel, _bytes);

    /// <summary>Writes <see cref="ToPem"/> to a file.</summary>
    /// <param name="path">Where to write.</param>
    public void Save(string path) => File.WriteAllText(path, ToPem());

    /// <inheritdoc/>
    public bool Equals(Crypt4ghPublicKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Crypt4ghPublicKey);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>The fingerprint of the key.</summary>
    public override string ToString() => Fingerprint;
}
