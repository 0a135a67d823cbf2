using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>The encrypted header as stored: its packets, still encrypted, and its total length.</summary>
internal sealed class RawHeader(List<byte[]> packets, long length)
{
    /// <summary>Each packet in full, starting with its 4-byte length.</summary>
    public List<byte[]> Packets { get; } = packets;

    /// <summary>Bytes the header occupies: preamble plus all packets.</summary>
    public long Length { get; } = length;

    public static RawHeader Read(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Span<byte> preamble = stackalloc byte[Format.PreambleSize];
        var read = input.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false);
        var count = CheckPreamble(preamble[..read]);
        var packets = new List<byte[]>((int)Math.Min(count, 64));
        long length = Format.PreambleSize;
        Span<byte> lengthBytes = stackalloc byte[4];
        for (uint i = 0; i < count; i++)
        {
            if (input.ReadAtLeast(lengthBytes, 4, throwOnEndOfStream: false) < 4)
            {
                throw TruncatedPacket(i, count);
            }

            var packet = NewPacket(lengthBytes, i, length);
            if (input.ReadAtLeast(packet.AsSpan(4), packet.Length - 4, throwOnEndOfStream: false) < packet.Length - 4)
            {
                throw TruncatedPacket(i, count);
            }

            packets.Add(packet);
            length += packet.Length;
        }

        return new RawHeader(packets, length);
    }

    public static async Task<RawHeader> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var preamble = new byte[Format.PreambleSize];
        var read = await input.ReadAtLeastAsync(preamble, preamble.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var count = CheckPreamble(preamble.AsSpan(0, read));
        var packets = new List<byte[]>((int)Math.Min(count, 64));
        long length = Format.PreambleSize;
        var lengthBytes = new byte[4];
        for (uint i = 0; i < count; i++)
        {
            if (await input.ReadAtLeastAsync(lengthBytes, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 4)
            {
                throw TruncatedPacket(i, count);
            }

            var packet = NewPacket(lengthBytes, i, length);
            if (await input.ReadAtLeastAsync(packet.AsMemory(4), packet.Length - 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < packet.Length - 4)
            {
                throw TruncatedPacket(i, count);
            }

            packets.Add(packet);
            length += packet.Length;
        }

        return new RawHeader(packets, length);
    }

    /// <summary>magic, version, packet count, then the packets as they are.</summary>
    public static byte[] Serialize(IReadOnlyCollection<byte[]> packets)
    {
        var size = Format.PreambleSize + packets.Sum(p => (long)p.Length);
        var output = new byte[size];
        Format.Magic.CopyTo(output);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(8), Format.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(12), (uint)packets.Count);
        var offset = Format.PreambleSize;
        foreach (var packet in packets)
        {
            packet.CopyTo(output, offset);
            offset += packet.Length;
        }

        return output;
    }

    private static uint CheckPreamble(ReadOnlySpan<byte> preamble)
    {
        var magicLength = Math.Min(preamble.Length, Format.Magic.Length);
        if (!preamble[..magicLength].SequenceEqual(Format.Magic[..magicLength]))
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.BadMagic, "Not a Crypt4GH file: it does not start with 'crypt4gh'.");
        }

        if (preamble.Length < Format.PreambleSize)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.TruncatedHeader, $"The Crypt4GH header ends after {preamble.Length} bytes, inside its first 16.");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        if (version != Format.Version)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.UnsupportedVersion, $"Crypt4GH version {version} is not supported; only version 1 is.");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(preamble[12..]);
        if (count > Format.MaxHeaderPackets)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.MalformedHeader, $"The Crypt4GH header declares {count} packets; at most {Format.MaxHeaderPackets} are accepted.");
        }

        return count;
    }

    private static byte[] NewPacket(ReadOnlySpan<byte> lengthBytes, uint index, long headerSoFar)
    {
        var packetLength = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (packetLength < 8 || packetLength > Format.MaxPacketLength)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.MalformedHeader, $"Header packet {index} declares a length of {packetLength} bytes; 8 to {Format.MaxPacketLength} are accepted.");
        }

        // Checked before the packet is allocated: the whole header is held in memory, so it must not grow with the input.
        if (headerSoFar + packetLength > Format.MaxHeaderBytes)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.MalformedHeader, $"The Crypt4GH header grows beyond {Format.MaxHeaderBytes} bytes at packet {index}; larger headers are not accepted.");
        }

        var packet = new byte[packetLength];
        lengthBytes.CopyTo(packet);
        return packet;
    }

    private static Crypt4ghException TruncatedPacket(uint index, uint count) =>
        new(Crypt4ghErrorKind.TruncatedHeader, $"The Crypt4GH header ends inside header packet {index} of {count}.");
}

/// <summary>Encryption and decryption of single header packets (method X25519_chacha20_ietf_poly1305).</summary>
internal static class HeaderPacket
{
    private const int PublicKeyOffset = 8;
    private const int NonceOffset = PublicKeyOffset + Format.KeySize;
    private const int PayloadOffset = NonceOffset + Format.NonceSize;

    public static byte[] Encrypt(ReadOnlySpan<byte> payload, Crypt4ghPublicKey recipient, Crypt4ghPrivateKey writer)
    {
        var packet = new byte[Format.PacketOverhead + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(packet, (uint)packet.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(4), Format.HeaderMethodX25519ChaCha20IetfPoly1305);
        writer.PublicKey.Bytes.CopyTo(packet.AsSpan(PublicKeyOffset));
        RandomNumberGenerator.Fill(packet.AsSpan(NonceOffset, Format.NonceSize));
        Span<byte> sharedKey = stackalloc byte[Format.KeySize];
        try
        {
            if (!writer.TryDeriveSharedKey(recipient.Bytes, selfIsReader: false, sharedKey))
            {
                throw new ArgumentException("The recipient's public key is a low-order point: no shared key can be derived with it.", nameof(recipient));
            }

            using var aead = new ChaCha20Poly1305(sharedKey);
            aead.Encrypt(
                packet.AsSpan(NonceOffset, Format.NonceSize),
                payload,
                packet.AsSpan(PayloadOffset, payload.Length),
                packet.AsSpan(packet.Length - Format.MacSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedKey);
        }

        return packet;
    }

    /// <summary>Decrypts a packet meant for <paramref name="reader"/>; null if it is for someone else (or another method).</summary>
    public static byte[]? TryDecrypt(byte[] packet, Crypt4ghPrivateKey reader, Crypt4ghPublicKey? expectedWriter, out Crypt4ghPublicKey? writer)
    {
        writer = null;
        var method = BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(4));
        if (method != Format.HeaderMethodX25519ChaCha20IetfPoly1305)
        {
            return null; // possibly for a reader with another method: not an error
        }

        if (packet.Length < Format.PacketOverhead)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.MalformedHeader, $"A header packet of {packet.Length} bytes is too short for X25519_chacha20_ietf_poly1305.");
        }

        var writerKey = packet.AsSpan(PublicKeyOffset, Format.KeySize);
        if (expectedWriter is not null && !writerKey.SequenceEqual(expectedWriter.Bytes))
        {
            return null;
        }

        Span<byte> sharedKey = stackalloc byte[Format.KeySize];
        try
        {
            if (!reader.TryDeriveSharedKey(writerKey, selfIsReader: true, sharedKey))
            {
                return null;
            }

            var payload = new byte[packet.Length - Format.PacketOverhead];
            using var aead = new ChaCha20Poly1305(sharedKey);
            try
            {
                aead.Decrypt(
                    packet.AsSpan(NonceOffset, Format.NonceSize),
                    packet.AsSpan(PayloadOffset, payload.Length),
                    packet.AsSpan(packet.Length - Format.MacSize),
                    payload);
            }
            catch (AuthenticationTagMismatchException)
            {
                return null; // meant for another reader
            }

            writer = Crypt4ghPublicKey.FromBytes(writerKey);
            return payload;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedKey);
        }
    }

    public static byte[] DataKeyPayload(ReadOnlySpan<byte> dataKey)
    {
        var payload = new byte[4 + 4 + Format.KeySize];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Format.PacketTypeDataEncryptionParameters);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), Format.DataMethodChaCha20IetfPoly1305);
        dataKey.CopyTo(payload.AsSpan(8));
        return payload;
    }

    public static byte[] EditListPayload(IReadOnlyList<long> lengths)
    {
        var payload = new byte[4 + 4 + (8L * lengths.Count)];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Format.PacketTypeDataEditList);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), (uint)lengths.Count);
        for (var i = 0; i < lengths.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8 + (8 * i)), (ulong)lengths[i]);
        }

        return payload;
    }
}
