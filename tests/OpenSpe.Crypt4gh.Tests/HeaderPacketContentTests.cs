using System.Buffers.Binary;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>
/// Header packets whose content is wrong once decrypted, or that are not for this method at all: each is refused
/// with its own error kind and a message that names the value at fault (what <c>spe crypt4gh decrypt</c> prints),
/// and packets for other readers or methods are passed over.
/// </summary>
public sealed class HeaderPacketContentTests
{
    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Packet_too_short_for_its_type_is_malformed()
    {
        var error = Fail([HeaderPacket.DataKeyPayload(new byte[32]), [0, 0, 0, 0]]);

        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, error.Kind);
        Assert.Contains("holds 4 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Data_key_packet_too_short_for_a_key_is_malformed()
    {
        var error = Fail([HeaderPacket.DataKeyPayload(new byte[32])[..24]]);

        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, error.Kind);
        Assert.Contains("32-byte key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1u, "chacha20_ietf_poly1305_with_AEAD (1) is not supported")]
    [InlineData(5u, "Unknown data encryption method 5.")]
    [Trait("Requirement", "SDR-3")]
    public void Other_data_methods_are_named_when_refused(uint method, string named)
    {
        var payload = HeaderPacket.DataKeyPayload(new byte[32]);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), method);

        var error = Fail([payload]);

        Assert.Equal(Crypt4ghErrorKind.UnsupportedMethod, error.Kind);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Unknown_packet_type_is_named_when_refused()
    {
        var payload = HeaderPacket.DataKeyPayload(new byte[32]);
        BinaryPrimitives.WriteUInt32LittleEndian(payload, 7);

        var error = Fail([payload]);

        Assert.Equal(Crypt4ghErrorKind.UnsupportedMethod, error.Kind);
        Assert.Contains("Unknown header packet type 7.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Second_edit_list_is_refused_with_a_reason()
    {
        var error = Fail([HeaderPacket.DataKeyPayload(new byte[32]), HeaderPacket.EditListPayload([0, 10]), HeaderPacket.EditListPayload([5, 10])]);

        Assert.Equal(Crypt4ghErrorKind.MultipleEditLists, error.Kind);
        Assert.Contains("more than one data edit list", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3u, 2, "The data edit list declares 3 lengths but its packet holds only 2.")]
    [InlineData(1u, 0, "The data edit list declares 1 lengths but its packet holds only 0.")]
    [Trait("Requirement", "SDR-3")]
    public void Edit_list_count_beyond_its_packet_names_both_numbers(uint declared, int held, string message)
    {
        var payload = HeaderPacket.EditListPayload(new long[held]);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), declared);

        var error = Fail([HeaderPacket.DataKeyPayload(new byte[32]), payload]);

        Assert.Equal((Crypt4ghErrorKind.InvalidEditList, message), (error.Kind, error.Message));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Edit_list_length_beyond_a_signed_64_bit_number_is_refused()
    {
        var payload = HeaderPacket.EditListPayload([1, 2]);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), (ulong)long.MaxValue + 1);

        var error = Fail([HeaderPacket.DataKeyPayload(new byte[32]), payload]);

        Assert.Equal(Crypt4ghErrorKind.InvalidEditList, error.Kind);
        Assert.Contains("length 1 (9223372036854775808) is too large", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Short_packet_of_another_header_method_is_passed_over()
    {
        // Another method's packet may have any layout (the reader it is for knows it); only X25519 packets are parsed.
        var key = new byte[32];
        key[0] = 42;
        var header = WithExtraPacket(Crypt4ghHeader.EncryptPayloads([HeaderPacket.DataKeyPayload(key)], [TestData.Project.PublicKey], null, []), Packet(method: 7, totalLength: 12));

        using var input = new MemoryStream(header);
        var read = Crypt4ghHeader.Read(input, TestData.Project);

        Assert.Equal(key, read.DataKeys.Single().ToArray());
        Assert.Equal(header.Length, read.EncodedLength);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void X25519_packet_too_short_for_key_nonce_and_mac_is_malformed()
    {
        var header = WithExtraPacket(Crypt4ghHeader.EncryptPayloads([HeaderPacket.DataKeyPayload(new byte[32])], [TestData.Project.PublicKey], null, []), Packet(method: 0, totalLength: 20));

        using var input = new MemoryStream(header);
        var error = Assert.Throws<Crypt4ghException>(() => Crypt4ghHeader.Read(input, TestData.Project));

        Assert.Equal(Crypt4ghErrorKind.MalformedHeader, error.Kind);
        Assert.Contains("A header packet of 20 bytes is too short", error.Message, StringComparison.Ordinal);
    }

    private static Crypt4ghException Fail(byte[][] payloads)
    {
        var header = Crypt4ghHeader.EncryptPayloads(payloads, [TestData.Project.PublicKey], null, []);
        using var input = new MemoryStream(header);
        return Assert.Throws<Crypt4ghException>(() => Crypt4ghHeader.Read(input, TestData.Project));
    }

    private static byte[] Packet(uint method, int totalLength)
    {
        var packet = new byte[totalLength];
        BinaryPrimitives.WriteUInt32LittleEndian(packet, (uint)totalLength);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(4), method);
        return packet;
    }

    private static byte[] WithExtraPacket(byte[] header, byte[] packet)
    {
        var combined = header.Concat(packet).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(combined.AsSpan(12), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12)) + 1);
        return combined;
    }
}
