using System.Buffers.Binary;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>
/// A hostile header must not cost memory or time in proportion to itself (the CLI, the ingest of uploads and the backup
/// reader all read headers): a review found a 1 GB header held whole in memory (1.09 GB resident) and a 13 MB file
/// whose 4,000 data keys made each segment cost 4,000 decryptions (20 s instead of 0.2 s).
/// </summary>
[Trait("Requirement", "SDR-3")]
public sealed class HeaderLimitTests
{
    [Fact]
    public void More_data_keys_than_the_limit_are_refused_and_the_limit_itself_is_read()
    {
        using var reader = Crypt4ghPrivateKey.Generate();
        using var writer = Crypt4ghPrivateKey.Generate();

        var atLimit = HeaderWithDataKeys(Format.MaxDataKeys, reader, writer);
        using (var stream = new Crypt4ghDecryptingStream(new MemoryStream(atLimit), reader))
        {
            Assert.Equal(Format.MaxDataKeys, stream.Header.DataKeys.Count);
        }

        var error = Assert.Throws<Crypt4ghException>(() => new Crypt4ghDecryptingStream(new MemoryStream(HeaderWithDataKeys(Format.MaxDataKeys + 1, reader, writer)), reader));
        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, error.Kind);
        Assert.Contains($"more than {Format.MaxDataKeys} data keys", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Crypt4ghHeader.Create(Format.MaxDataKeys + 1));
    }

    [Fact]
    public void A_header_declaring_more_packets_than_the_limit_is_refused_before_any_is_read()
    {
        var input = new HostileHeaderStream(Format.MaxHeaderPackets + 1, packetLength: 8);

        var error = Assert.Throws<Crypt4ghException>(() => Crypt4ghHeader.Read(input, TestData.Project));

        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, error.Kind);
        Assert.Equal(16, input.Position);
    }

    [Fact]
    public async Task A_header_larger_than_the_limit_is_refused_before_it_is_held()
    {
        // Four packets of the largest size: the fourth would take the header past the limit and is never allocated.
        var input = new HostileHeaderStream(count: 64, packetLength: Format.MaxPacketLength);

        var error = await Assert.ThrowsAsync<Crypt4ghException>(() => Crypt4ghHeader.ReadSealedAsync(input));

        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, error.Kind);
        Assert.Contains("grows beyond", error.Message, StringComparison.Ordinal);
        Assert.True(input.Position <= Format.MaxHeaderBytes, $"read {input.Position} bytes");
    }

    private static byte[] HeaderWithDataKeys(int keys, Crypt4ghPrivateKey reader, Crypt4ghPrivateKey writer)
    {
        var packets = Enumerable.Range(0, keys)
            .Select(_ => HeaderPacket.Encrypt(HeaderPacket.DataKeyPayload(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), reader.PublicKey, writer))
            .ToList();
        return RawHeader.Serialize(packets);
    }

    /// <summary>A header made on the fly: the preamble, then <c>count</c> packets of an unknown method (kept, not decrypted).</summary>
    private sealed class HostileHeaderStream(long count, int packetLength) : Stream
    {
        private readonly long _length = 16 + (count * packetLength);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count1)
        {
            var n = (int)Math.Min(count1, _length - Position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = ByteAt(Position + i);
            }

            Position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count1) => throw new NotSupportedException();

        private byte ByteAt(long position)
        {
            Span<byte> preamble = stackalloc byte[16];
            if (position < 16)
            {
                "crypt4gh"u8.CopyTo(preamble);
                BinaryPrimitives.WriteUInt32LittleEndian(preamble[8..], 1);
                BinaryPrimitives.WriteUInt32LittleEndian(preamble[12..], (uint)count);
                return preamble[(int)position];
            }

            var inPacket = (position - 16) % packetLength;
            Span<byte> start = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(start, (uint)packetLength);
            BinaryPrimitives.WriteUInt32LittleEndian(start[4..], 1);
            return inPacket < 8 ? start[(int)inPacket] : (byte)0;
        }
    }
}
