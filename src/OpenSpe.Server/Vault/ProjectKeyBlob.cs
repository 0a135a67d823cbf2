using System.Buffers.Binary;
using System.Text;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Server.Vault;

/// <summary>
/// The on-disk form of a wrapped project private key:
/// <c>"OSPEPK" | format (1) | backend (1) | master key id length (1) | master key id (ASCII) | public key (32) | nonce (12) | ciphertext (32) | tag (16)</c>.
/// Everything before the nonce is the header; the AES-GCM associated data is a domain label,
/// the project id and the header, so a blob cannot be moved to another project, re-labelled
/// with another master key id or paired with another public key without failing to unwrap.
/// </summary>
internal sealed class ProjectKeyBlob
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int SealedSize = Crypt4ghPrivateKey.KeySize + TagSize;
    public const int MaxMasterKeyIdLength = 64;
    public const byte FormatVersion = 1;
    public const byte LocalBackend = 1;
    public const byte Pkcs11Backend = 2;

    private static ReadOnlySpan<byte> Magic => "OSPEPK"u8;

    private static ReadOnlySpan<byte> Domain => "openspe/vault/project-key/v1\0"u8;

    private ProjectKeyBlob(byte[] header, byte backend, string masterKeyId, byte[] publicKey, byte[] nonce, byte[] sealedKey)
    {
        Header = header;
        BackendTag = backend;
        MasterKeyId = masterKeyId;
        PublicKey = publicKey;
        Nonce = nonce;
        SealedKey = sealedKey;
    }

    public byte[] Header { get; }

    public byte BackendTag { get; }

    public string MasterKeyId { get; }

    public byte[] PublicKey { get; }

    public byte[] Nonce { get; }

    public byte[] SealedKey { get; }

    public string Fingerprint => Crypt4ghPublicKey.FromBytes(PublicKey).Fingerprint;

    public static byte[] EncodeHeader(byte backend, string masterKeyId, ReadOnlySpan<byte> publicKey)
    {
        var id = Encoding.ASCII.GetBytes(masterKeyId);
        if (id.Length is 0 or > MaxMasterKeyIdLength || !Ascii.IsValid(masterKeyId))
        {
            throw new ArgumentException("A master key id is 1-64 ASCII characters.", nameof(masterKeyId));
        }

        var header = new byte[Magic.Length + 3 + id.Length + Crypt4ghPublicKey.KeySize];
        var span = header.AsSpan();
        Magic.CopyTo(span);
        span[Magic.Length] = FormatVersion;
        span[Magic.Length + 1] = backend;
        span[Magic.Length + 2] = (byte)id.Length;
        id.CopyTo(span[(Magic.Length + 3)..]);
        publicKey.CopyTo(span[(Magic.Length + 3 + id.Length)..]);
        return header;
    }

    public static byte[] AssociatedData(string projectId, ReadOnlySpan<byte> header)
    {
        var project = Encoding.ASCII.GetBytes(projectId);
        var aad = new byte[Domain.Length + 2 + project.Length + header.Length];
        Domain.CopyTo(aad);
        BinaryPrimitives.WriteUInt16BigEndian(aad.AsSpan(Domain.Length), (ushort)project.Length);
        project.CopyTo(aad.AsSpan(Domain.Length + 2));
        header.CopyTo(aad.AsSpan(Domain.Length + 2 + project.Length));
        return aad;
    }

    public static byte[] Encode(ReadOnlySpan<byte> header, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedKey)
    {
        var blob = new byte[header.Length + NonceSize + SealedSize];
        header.CopyTo(blob);
        nonce.CopyTo(blob.AsSpan(header.Length));
        sealedKey.CopyTo(blob.AsSpan(header.Length + NonceSize));
        return blob;
    }

    public static ProjectKeyBlob Parse(ReadOnlySpan<byte> data)
    {
        var fixedPart = Magic.Length + 3;
        if (data.Length < fixedPart || !data.StartsWith(Magic))
        {
            throw Corrupt("it does not start with the project-key magic");
        }

        if (data[Magic.Length] != FormatVersion)
        {
            throw Corrupt($"format {data[Magic.Length]} is not supported");
        }

        var backend = data[Magic.Length + 1];
        int idLength = data[Magic.Length + 2];
        var headerLength = fixedPart + idLength + Crypt4ghPublicKey.KeySize;
        if (idLength is 0 or > MaxMasterKeyIdLength || data.Length != headerLength + NonceSize + SealedSize)
        {
            throw Corrupt("its length does not match its header");
        }

        var idBytes = data.Slice(fixedPart, idLength);
        if (!Ascii.IsValid(idBytes))
        {
            throw Corrupt("its master key id is not ASCII");
        }

        return new ProjectKeyBlob(
            data[..headerLength].ToArray(),
            backend,
            Encoding.ASCII.GetString(idBytes),
            data.Slice(fixedPart + idLength, Crypt4ghPublicKey.KeySize).ToArray(),
            data.Slice(headerLength, NonceSize).ToArray(),
            data.Slice(headerLength + NonceSize, SealedSize).ToArray());
    }

    public static string BackendName(byte tag) => tag switch
    {
        LocalBackend => KeyManagementOptions.LocalBackend,
        Pkcs11Backend => KeyManagementOptions.Pkcs11Backend,
        _ => "unknown",
    };

    private static ProjectKeyException Corrupt(string reason) => new(ProjectKeyError.Corrupt, $"The stored project key is unreadable: {reason}.");
}
