using System.Buffers.Binary;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>Damaged or hostile inputs fail with the right error kind and never yield unauthenticated bytes.</summary>
public sealed class MalformedInputTests
{
    private static readonly Lazy<(byte[] Plain, byte[] File)> Sample = new(() =>
    {
        var plain = TestData.RandomBytes((3 * 65536) + 1000, 99);
        return (plain, RoundTripTests.Encrypt(plain, [TestData.Project.PublicKey], new Crypt4ghEncryptionOptions { WriterKey = TestData.Holder }));
    });

    private const int HeaderLength = 16 + 108;

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Bad_magic_is_rejected()
    {
        var file = Copy();
        file[0] = (byte)'C';
        Assert.Equal(Crypt4ghErrorKind.BadMagic, Fail(file).Kind);
        Assert.Equal(Crypt4ghErrorKind.BadMagic, Fail("not a crypt4gh file at all"u8.ToArray()).Kind);
        Assert.Equal(Crypt4ghErrorKind.BadMagic, Fail("PK\x03\x04"u8.ToArray()).Kind);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Other_versions_are_rejected()
    {
        var file = Copy();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 2);
        var error = Fail(file);
        Assert.Equal(Crypt4ghErrorKind.UnsupportedVersion, error.Kind);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(19)]
    [InlineData(60)]
    [InlineData(HeaderLength - 1)]
    [Trait("Requirement", "SDR-3")]
    public void Truncated_header_is_rejected(int length)
    {
        var file = Copy()[..length];
        Assert.Equal(Crypt4ghErrorKind.TruncatedHeader, Fail(file).Kind);
        Assert.Equal(Crypt4ghErrorKind.TruncatedHeader, FailForwardOnly(file).Kind);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Header_packet_with_an_absurd_length_is_rejected()
    {
        var file = Copy();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 3);
        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, Fail(file).Kind);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), uint.MaxValue);
        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, Fail(file).Kind);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    [InlineData(28)]
    [Trait("Requirement", "SDR-3")]
    public void Segment_too_short_for_nonce_and_mac_is_a_truncated_segment(int tail)
    {
        var (plain, full) = Sample.Value;
        var cut = HeaderLength + (3 * Crypt4ghFile.CipherSegmentSize) + tail;
        var file = full[..cut];
        Assert.Equal(Crypt4ghErrorKind.TruncatedSegment, Fail(file).Kind);

        // Read forward-only, the three whole segments come out first, then the error: nothing of the stub.
        using var stream = new Crypt4ghDecryptingStream(new ForwardOnlyStream(new MemoryStream(file)), TestData.Project);
        var output = new MemoryStream();
        var error = Assert.Throws<Crypt4ghException>(() => stream.CopyTo(output));
        Assert.Equal(Crypt4ghErrorKind.TruncatedSegment, error.Kind);
        Assert.Equal(plain.AsSpan(0, 3 * 65536).ToArray(), output.ToArray());
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Segment_cut_inside_its_data_fails_authentication_and_releases_nothing_of_it()
    {
        var (plain, full) = Sample.Value;
        var file = full[..(HeaderLength + Crypt4ghFile.CipherSegmentSize + 5000)];
        using var stream = new Crypt4ghDecryptingStream(new MemoryStream(file), TestData.Project);
        var output = new MemoryStream();
        var error = Assert.Throws<Crypt4ghException>(() => stream.CopyTo(output));
        Assert.Equal(Crypt4ghErrorKind.AuthenticationFailed, error.Kind);
        Assert.Equal(plain.AsSpan(0, 65536).ToArray(), output.ToArray());
    }

    [Theory]
    [InlineData(0)] // first nonce byte
    [InlineData(12)] // first ciphertext byte
    [InlineData(40_000)]
    [InlineData(Crypt4ghFile.CipherSegmentSize - 1)] // last MAC byte
    [Trait("Requirement", "SDR-3")]
    public void Flipped_bit_in_a_segment_fails_authentication(int offsetInSegment)
    {
        var (plain, _) = Sample.Value;
        var file = Copy();
        file[HeaderLength + Crypt4ghFile.CipherSegmentSize + offsetInSegment] ^= 0x10; // second segment
        Assert.Equal(Crypt4ghErrorKind.AuthenticationFailed, Fail(file).Kind);

        // Every read path: only the authenticated first segment is ever released.
        using var stream = new Crypt4ghDecryptingStream(new MemoryStream(file), TestData.Project);
        var buffer = new byte[3 * 65536];
        Assert.Equal(Crypt4ghErrorKind.AuthenticationFailed, Assert.Throws<Crypt4ghException>(() => stream.ReadExactly(buffer)).Kind);
        Assert.Equal(65536, stream.Position);
        Assert.True(buffer.AsSpan(65536).IndexOfAnyExcept((byte)0) < 0, "no byte of the failed segment may reach the caller");
        Assert.Equal(plain.AsSpan(0, 65536).ToArray(), buffer.AsSpan(0, 65536).ToArray());

        stream.Position = 65536 + 10;
        Assert.Equal(Crypt4ghErrorKind.AuthenticationFailed, Assert.Throws<Crypt4ghException>(() => stream.ReadByte()).Kind);

        // The other segments are still readable by seeking past the damaged one.
        stream.Position = 2 * 65536;
        var third = new byte[65536];
        stream.ReadExactly(third);
        Assert.Equal(plain.AsSpan(2 * 65536, 65536).ToArray(), third);
    }

    [Theory]
    [InlineData(24)] // writer public key
    [InlineData(60)] // nonce
    [InlineData(80)] // encrypted payload
    [InlineData(HeaderLength - 1)] // MAC
    [Trait("Requirement", "SDR-3")]
    public void Flipped_bit_in_the_header_packet_leaves_no_key(int offset)
    {
        var file = Copy();
        file[offset] ^= 0x01;
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, Fail(file).Kind);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Wrong_key_finds_nothing()
    {
        using var stranger = Crypt4ghPrivateKey.Generate();
        var error = Fail(Copy(), stranger);
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, error.Kind);
        Assert.Contains(stranger.PublicKey.Fingerprint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Two_edit_lists_for_one_reader_are_rejected()
    {
        var reader = TestData.Project;
        byte[][] payloads =
        [
            HeaderPacket.DataKeyPayload(new byte[32]),
            HeaderPacket.EditListPayload([0, 10]),
            HeaderPacket.EditListPayload([5, 10]),
        ];
        var header = Crypt4ghHeader.EncryptPayloads(payloads, [reader.PublicKey], null, []);
        Assert.Equal(Crypt4ghErrorKind.MultipleEditLists, Fail(header).Kind);

        // An edit list meant for someone else does not count.
        using var other = Crypt4ghPrivateKey.Generate();
        var mine = Crypt4ghHeader.EncryptPayloads([HeaderPacket.DataKeyPayload(new byte[32]), HeaderPacket.EditListPayload([1, 2])], [reader.PublicKey], null, []);
        var theirs = Crypt4ghHeader.EncryptPayloads([HeaderPacket.EditListPayload([3, 4])], [other.PublicKey], null, []);
        var combined = CombineHeaders(mine, theirs);
        using var input = new MemoryStream(combined);
        Assert.Equal([1L, 2L], Crypt4ghHeader.Read(input, reader).EditList);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Unsupported_data_method_and_packet_type_are_rejected()
    {
        var aead = HeaderPacket.DataKeyPayload(new byte[32]);
        BinaryPrimitives.WriteUInt32LittleEndian(aead.AsSpan(4), 1);
        Assert.Equal(Crypt4ghErrorKind.UnsupportedMethod, Fail(Crypt4ghHeader.EncryptPayloads([aead], [TestData.Project.PublicKey], null, [])).Kind);

        var unknownType = HeaderPacket.DataKeyPayload(new byte[32]);
        BinaryPrimitives.WriteUInt32LittleEndian(unknownType, 7);
        Assert.Equal(Crypt4ghErrorKind.UnsupportedMethod, Fail(Crypt4ghHeader.EncryptPayloads([unknownType], [TestData.Project.PublicKey], null, [])).Kind);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Edit_list_longer_than_its_packet_is_rejected()
    {
        var payload = HeaderPacket.EditListPayload([1, 2]);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), 3);
        var header = Crypt4ghHeader.EncryptPayloads([HeaderPacket.DataKeyPayload(new byte[32]), payload], [TestData.Project.PublicKey], null, []);
        Assert.Equal(Crypt4ghErrorKind.InvalidEditList, Fail(header).Kind);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Padded_data_key_packet_is_accepted()
    {
        var (plain, full) = Sample.Value;
        using var input = new MemoryStream(full);
        var key = Crypt4ghHeader.Read(input, TestData.Project).DataKeys[0].ToArray();
        var padded = new byte[40 + 24];
        HeaderPacket.DataKeyPayload(key).CopyTo(padded, 0);
        var header = Crypt4ghHeader.EncryptPayloads([padded], [TestData.Project.PublicKey], null, []);
        var file = header.Concat(full.Skip(HeaderLength)).ToArray();
        Assert.Equal(plain, RoundTripTests.Decrypt(file, TestData.Project));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Packet_from_a_low_order_writer_key_is_ignored()
    {
        var file = Copy();
        file.AsSpan(24, 32).Clear(); // writer public key := 0, a point of small order
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, Fail(file).Kind);
        Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create().Encrypt([Crypt4ghPublicKey.FromBytes(new byte[32])]));
    }

    [Fact]
    public void A_failed_open_disposes_the_input_unless_asked_to_leave_it_open()
    {
        var closed = new MemoryStream(Copy()[..10]);
        Assert.Throws<Crypt4ghException>(() => new Crypt4ghDecryptingStream(closed, TestData.Project));
        Assert.False(closed.CanRead);
        var open = new MemoryStream(Copy()[..10]);
        Assert.Throws<Crypt4ghException>(() => new Crypt4ghDecryptingStream(open, TestData.Project, leaveOpen: true));
        Assert.True(open.CanRead);
    }

    private static byte[] Copy() => (byte[])Sample.Value.File.Clone();

    private static Crypt4ghException Fail(byte[] file, Crypt4ghPrivateKey? key = null) =>
        Assert.Throws<Crypt4ghException>(() =>
        {
            using var output = new MemoryStream();
            Crypt4ghFile.Decrypt(new MemoryStream(file), output, key ?? TestData.Project);
        });

    private static Crypt4ghException FailForwardOnly(byte[] file) =>
        Assert.Throws<Crypt4ghException>(() => Crypt4ghFile.Decrypt(new ForwardOnlyStream(new MemoryStream(file)), Stream.Null, TestData.Project));

    private static byte[] CombineHeaders(byte[] first, byte[] second)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(12)) + BinaryPrimitives.ReadUInt32LittleEndian(second.AsSpan(12));
        var combined = first.Concat(second.Skip(16)).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(combined.AsSpan(12), count);
        return combined;
    }
}
