using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>
/// The decrypted content of a Crypt4GH header as one reader sees it: the data keys (from
/// <c>data_encryption_parameters</c> packets) and the optional data edit list.
/// Also builds, encrypts and re-encrypts headers.
/// </summary>
public sealed class Crypt4ghHeader
{
    private const int MaxEditListLengths = (Format.MaxPacketLength - Format.PacketOverhead - 8) / 8;
    private readonly byte[][] _dataKeys;
    private readonly long[]? _editList;

    private Crypt4ghHeader(byte[][] dataKeys, long[]? editList, long encodedLength, IReadOnlyList<Crypt4ghPublicKey> writers)
    {
        _dataKeys = dataKeys;
        _editList = editList;
        EncodedLength = encodedLength;
        WriterPublicKeys = writers;
    }

    /// <summary>The 32-byte ChaCha20-Poly1305 data keys; a segment may be encrypted with any of them.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> DataKeys => _dataKeys.Select(k => (ReadOnlyMemory<byte>)k).ToList();

    /// <summary>
    /// The data edit list: byte counts to alternately skip and keep in the decrypted data, starting with a skip;
    /// after the last count everything is skipped if it was a keep, kept if it was a skip. Null when there is none.
    /// </summary>
    public IReadOnlyList<long>? EditList => _editList;

    /// <summary>The number of bytes the header occupied in the input it was read from (0 for a header made with <see cref="Create(int, IReadOnlyList{long})"/>).</summary>
    public long EncodedLength { get; }

    /// <summary>The distinct writer public keys of the packets this reader could decrypt (empty for a created header).</summary>
    public IReadOnlyList<Crypt4ghPublicKey> WriterPublicKeys { get; }

    internal ReadOnlySpan<byte[]> DataKeyArrays => _dataKeys;

    internal long[]? EditListArray => _editList;

    /// <summary>Makes a header with fresh random data keys.</summary>
    /// <param name="dataKeyCount">How many data keys (one to sixteen).</param>
    /// <param name="editList">An optional data edit list (non-negative lengths, skip first).</param>
    public static Crypt4ghHeader Create(int dataKeyCount = 1, IReadOnlyList<long>? editList = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dataKeyCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataKeyCount, Format.MaxDataKeys);
        var keys = new byte[dataKeyCount][];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = RandomNumberGenerator.GetBytes(Format.KeySize);
        }

        return new Crypt4ghHeader(keys, CheckEditList(editList), 0, []);
    }

    /// <summary>Makes a header with the given data keys.</summary>
    /// <param name="dataKeys">One to sixteen 32-byte keys.</param>
    /// <param name="editList">An optional data edit list (non-negative lengths, skip first).</param>
    public static Crypt4ghHeader Create(IEnumerable<ReadOnlyMemory<byte>> dataKeys, IReadOnlyList<long>? editList = null)
    {
        ArgumentNullException.ThrowIfNull(dataKeys);
        var keys = dataKeys.Select(k => k.Length == Format.KeySize
            ? k.ToArray()
            : throw new ArgumentException($"A data key is {Format.KeySize} bytes, not {k.Length}.", nameof(dataKeys))).ToArray();
        if (keys.Length == 0)
        {
            throw new ArgumentException("A header needs at least one data key.", nameof(dataKeys));
        }

        if (keys.Length > Format.MaxDataKeys)
        {
            throw new ArgumentException($"A header holds at most {Format.MaxDataKeys} data keys.", nameof(dataKeys));
        }

        return new Crypt4ghHeader(keys, CheckEditList(editList), 0, []);
    }

    /// <summary>
    /// Serializes the header encrypted for each recipient: one data key packet per data key, and the edit list
    /// packet if any, for every recipient.
    /// </summary>
    /// <param name="recipients">The readers' public keys (at least one).</param>
    /// <param name="writerKey">The writer's private key; null for a fresh ephemeral key (an anonymous sender).</param>
    public byte[] Encrypt(IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey = null)
    {
        var payloads = _dataKeys.Select(k => HeaderPacket.DataKeyPayload(k)).ToList();
        if (_editList is not null)
        {
            payloads.Add(HeaderPacket.EditListPayload(_editList));
        }

        try
        {
            return EncryptPayloads(payloads, recipients, writerKey, []);
        }
        finally
        {
            payloads.ForEach(p => CryptographicOperations.ZeroMemory(p));
        }
    }

    /// <summary>Reads the header at the current position of <paramref name="input"/> and decrypts it; the stream is left at the first data segment.</summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="readerKey">The reader's private key.</param>
    /// <param name="expectedWriter">If set, packets from any other writer are ignored.</param>
    /// <exception cref="Crypt4ghException">The header is malformed or holds nothing for this reader.</exception>
    public static Crypt4ghHeader Read(Stream input, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter = null)
    {
        ArgumentNullException.ThrowIfNull(readerKey);
        return Open(RawHeader.Read(input), readerKey, expectedWriter).Header;
    }

    /// <summary>Asynchronously reads and decrypts the header; see <see cref="Read"/>.</summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="readerKey">The reader's private key.</param>
    /// <param name="expectedWriter">If set, packets from any other writer are ignored.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<Crypt4ghHeader> ReadAsync(Stream input, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readerKey);
        var raw = await RawHeader.ReadAsync(input, cancellationToken).ConfigureAwait(false);
        return Open(raw, readerKey, expectedWriter).Header;
    }

    /// <summary>
    /// Reads the header's bytes at the current position of <paramref name="input"/> without decrypting them, so a caller
    /// can wait for a slow stream before it holds a private key; <see cref="Crypt4ghSealedHeader.Open"/> decrypts them.
    /// The stream is left at the first data segment.
    /// </summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="Crypt4ghException">The header is malformed or truncated.</exception>
    public static async Task<Crypt4ghSealedHeader> ReadSealedAsync(Stream input, CancellationToken cancellationToken = default) =>
        new(await RawHeader.ReadAsync(input, cancellationToken).ConfigureAwait(false));

    /// <summary>Decrypts a header read by <see cref="ReadSealedAsync"/>.</summary>
    internal static Crypt4ghHeader Open(RawHeader raw, Crypt4ghPrivateKey readerKey) => Open(raw, readerKey, expectedWriter: null).Header;

    /// <summary>
    /// Reads the header at the current position of <paramref name="input"/> with the reader's key and returns a new
    /// serialized header holding the same packets (data keys, edit list) encrypted for <paramref name="recipients"/>.
    /// The input is left at the first data segment, which can be copied unchanged after the new header.
    /// </summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="readerKey">A private key that opens the current header.</param>
    /// <param name="recipients">The new readers.</param>
    /// <param name="writerKey">The writer key of the new packets; null for an ephemeral one.</param>
    /// <param name="keepOtherPackets">Keep, unchanged, the packets <paramref name="readerKey"/> cannot open (for other readers).</param>
    public static byte[] Reencrypt(Stream input, Crypt4ghPrivateKey readerKey, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey = null, bool keepOtherPackets = false)
    {
        ArgumentNullException.ThrowIfNull(readerKey);
        return Reencrypt(RawHeader.Read(input), readerKey, recipients, writerKey, keepOtherPackets);
    }

    /// <summary>Asynchronously re-encrypts the header; see <see cref="Reencrypt(Stream, Crypt4ghPrivateKey, IEnumerable{Crypt4ghPublicKey}, Crypt4ghPrivateKey?, bool)"/>.</summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="readerKey">A private key that opens the current header.</param>
    /// <param name="recipients">The new readers.</param>
    /// <param name="writerKey">The writer key of the new packets; null for an ephemeral one.</param>
    /// <param name="keepOtherPackets">Keep, unchanged, the packets <paramref name="readerKey"/> cannot open.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<byte[]> ReencryptAsync(Stream input, Crypt4ghPrivateKey readerKey, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey = null, bool keepOtherPackets = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readerKey);
        var raw = await RawHeader.ReadAsync(input, cancellationToken).ConfigureAwait(false);
        return Reencrypt(raw, readerKey, recipients, writerKey, keepOtherPackets);
    }

    internal static byte[] EncryptPayloads(IReadOnlyList<byte[]> payloads, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey, IReadOnlyList<byte[]> keptPackets)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var readers = recipients.ToList();
        if (readers.Count == 0)
        {
            throw new ArgumentException("At least one recipient is needed.", nameof(recipients));
        }

        var ephemeral = writerKey is null ? Crypt4ghPrivateKey.Generate() : null;
        try
        {
            var writer = writerKey ?? ephemeral!;
            var packets = new List<byte[]>();
            foreach (var reader in readers)
            {
                ArgumentNullException.ThrowIfNull(reader, nameof(recipients));
                packets.AddRange(payloads.Select(payload => HeaderPacket.Encrypt(payload, reader, writer)));
            }

            packets.AddRange(keptPackets);
            if (packets.Count > Format.MaxHeaderPackets)
            {
                // A header this library (and so the SPE) would refuse to read is not written.
                throw new ArgumentException($"The header would hold {packets.Count} packets; at most {Format.MaxHeaderPackets} are written (fewer recipients).", nameof(recipients));
            }

            return RawHeader.Serialize(packets);
        }
        finally
        {
            ephemeral?.Dispose();
        }
    }

    private static byte[] Reencrypt(RawHeader raw, Crypt4ghPrivateKey readerKey, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey, bool keepOtherPackets)
    {
        var opened = Open(raw, readerKey, expectedWriter: null);
        try
        {
            return EncryptPayloads(opened.Payloads, recipients, writerKey, keepOtherPackets ? opened.OtherPackets : []);
        }
        finally
        {
            opened.Payloads.ForEach(p => CryptographicOperations.ZeroMemory(p));
        }
    }

    private static (Crypt4ghHeader Header, List<byte[]> Payloads, List<byte[]> OtherPackets) Open(RawHeader raw, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter)
    {
        var payloads = new List<byte[]>();
        var others = new List<byte[]>();
        var writers = new List<Crypt4ghPublicKey>();
        var keys = new List<byte[]>();
        long[]? editList = null;
        foreach (var packet in raw.Packets)
        {
            var payload = HeaderPacket.TryDecrypt(packet, readerKey, expectedWriter, out var writer);
            if (payload is null)
            {
                others.Add(packet);
                continue;
            }

            payloads.Add(payload);
            if (!writers.Contains(writer!))
            {
                writers.Add(writer!);
            }

            if (payload.Length < 8)
            {
                throw Malformed($"A decrypted header packet holds {payload.Length} bytes, too few for its type and content.");
            }

            var type = BinaryPrimitives.ReadUInt32LittleEndian(payload);
            switch (type)
            {
                case Format.PacketTypeDataEncryptionParameters:
                    var method = BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4));
                    if (method == Format.DataMethodChaCha20IetfPoly1305WithAead)
                    {
                        throw new Crypt4ghException(Crypt4ghErrorKind.UnsupportedMethod, "The data encryption method chacha20_ietf_poly1305_with_AEAD (1) is not supported; only chacha20_ietf_poly1305 (0) is.");
                    }

                    if (method != Format.DataMethodChaCha20IetfPoly1305)
                    {
                        throw new Crypt4ghException(Crypt4ghErrorKind.UnsupportedMethod, $"Unknown data encryption method {method}.");
                    }

                    if (payload.Length < 8 + Format.KeySize)
                    {
                        throw Malformed("A data encryption parameters packet is too short to hold a 32-byte key.");
                    }

                    if (keys.Count == Format.MaxDataKeys)
                    {
                        throw Malformed($"The header gives this reader more than {Format.MaxDataKeys} data keys; more are not accepted, because every segment would be tried with each.");
                    }

                    keys.Add(payload.AsSpan(8, Format.KeySize).ToArray()); // any bytes after the key are padding
                    break;
                case Format.PacketTypeDataEditList:
                    if (editList is not null)
                    {
                        throw new Crypt4ghException(Crypt4ghErrorKind.MultipleEditLists, "The header holds more than one data edit list for this reader; the file is rejected.");
                    }

                    editList = ParseEditList(payload);
                    break;
                default:
                    throw new Crypt4ghException(Crypt4ghErrorKind.UnsupportedMethod, $"Unknown header packet type {type}.");
            }
        }

        if (keys.Count == 0)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.NoMatchingKey, $"None of the {raw.Packets.Count} header packets gives a data key for this private key (fingerprint {readerKey.PublicKey.Fingerprint}).");
        }

        return (new Crypt4ghHeader([.. keys], editList, raw.Length, writers), payloads, others);
    }

    private static long[] ParseEditList(ReadOnlySpan<byte> payload)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        if (count > (uint)((payload.Length - 8) / 8))
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.InvalidEditList, $"The data edit list declares {count} lengths but its packet holds only {(payload.Length - 8) / 8}.");
        }

        var lengths = new long[count];
        for (var i = 0; i < lengths.Length; i++)
        {
            var value = BinaryPrimitives.ReadUInt64LittleEndian(payload[(8 + (8 * i))..]);
            if (value > long.MaxValue)
            {
                throw new Crypt4ghException(Crypt4ghErrorKind.InvalidEditList, $"Data edit list length {i} ({value}) is too large.");
            }

            lengths[i] = (long)value;
        }

        return lengths;
    }

    private static long[]? CheckEditList(IReadOnlyList<long>? editList)
    {
        if (editList is null)
        {
            return null;
        }

        if (editList.Count > MaxEditListLengths)
        {
            throw new ArgumentException($"A data edit list holds at most {MaxEditListLengths} lengths.", nameof(editList));
        }

        if (editList.Any(length => length < 0))
        {
            throw new ArgumentException("Data edit list lengths cannot be negative.", nameof(editList));
        }

        return [.. editList];
    }

    private static Crypt4ghException Malformed(string message) => new(Crypt4ghErrorKind.MalformedHeader, message);
}
