using OpenSpe.Core.Desktop;

namespace OpenSpe.Core.Tests.Desktop;

/// <summary>Cut text both ways under the permit's clipboard policy (TIR-25): plain RFC 6143 text and the Extended Clipboard.</summary>
public sealed class RfbClipboardTests
{
    private const byte ClientCutText = 6;
    private const byte ServerCutText = 3;

    private static readonly byte[] Secret = "patient 4711, HbA1c 9.2"u8.ToArray();

    private static readonly RfbPolicy Closed = new();
    private static readonly RfbPolicy In = new(ClipboardIn: true);
    private static readonly RfbPolicy Out = new(ClipboardOut: true);
    private static readonly RfbPolicy Both = new(ClipboardIn: true, ClipboardOut: true);

    public static TheoryData<string, bool, bool> Policies => new()
    {
        { "closed", false, false },
        { "in", true, false },
        { "out", false, true },
        { "both", true, true },
    };

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [MemberData(nameof(Policies))]
    public void ClientCutText_crosses_only_when_the_permit_opens_in(string name, bool clipboardIn, bool clipboardOut)
    {
        var harness = RfbHarness.Ready(new RfbPolicy(clipboardIn, clipboardOut));
        var message = Rfb.CutText(ClientCutText, Secret);

        RfbHarness.AssertOpen(harness.Client([.. message, .. Rfb.PointerEvent()]));

        byte[] expected = clipboardIn ? [.. message, .. Rfb.PointerEvent()] : Rfb.PointerEvent();
        Assert.True(expected.AsSpan().SequenceEqual(harness.ToServer.WrittenSpan), name);
        Assert.Equal(clipboardIn ? [] : [new RfbClipboardDrop(RfbDirection.ClientToServer, Secret.Length, false)], harness.Drops);
        var counters = harness.Session.ClientToServer.Counters;
        Assert.Equal(clipboardIn ? (1L, 0L, 0L) : (0L, 1L, Secret.Length), (counters.ClipboardForwarded, counters.ClipboardDropped, counters.ClipboardDroppedBytes));
    }

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [MemberData(nameof(Policies))]
    public void ServerCutText_crosses_only_when_the_permit_opens_out(string name, bool clipboardIn, bool clipboardOut)
    {
        var harness = RfbHarness.Ready(new RfbPolicy(clipboardIn, clipboardOut));
        var message = Rfb.CutText(ServerCutText, Secret);

        RfbHarness.AssertOpen(harness.Server([.. message, 2]));

        byte[] expected = clipboardOut ? [.. message, 2] : [2];
        Assert.True(expected.AsSpan().SequenceEqual(harness.ToClient.WrittenSpan), name);
        Assert.Equal(clipboardOut ? [] : [new RfbClipboardDrop(RfbDirection.ServerToClient, Secret.Length, false)], harness.Drops);
        var counters = harness.Session.ServerToClient.Counters;
        Assert.Equal(clipboardOut ? (1L, 0L) : (0L, 1L), (counters.ClipboardForwarded, counters.ClipboardDropped));
    }

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cut_text_split_at_every_byte_is_dropped_or_forwarded_whole_and_the_stream_stays_framed(bool clipboardIn)
    {
        byte[] stream = [.. Rfb.KeyEvent(), .. Rfb.CutText(ClientCutText, Secret), .. Rfb.PointerEvent()];
        byte[] expected = clipboardIn ? stream : [.. Rfb.KeyEvent(), .. Rfb.PointerEvent()];

        for (var cut = 1; cut < stream.Length; cut++)
        {
            var harness = RfbHarness.Ready(clipboardIn ? In : Closed);

            var result = harness.ClientSplit(stream, cut);

            RfbHarness.AssertOpen(result);
            Assert.True(expected.AsSpan().SequenceEqual(harness.ToServer.WrittenSpan), $"cut at {cut}");
            Assert.Equal((1, 1), (result.KeyEvents, result.PointerEvents));
            Assert.Equal(clipboardIn ? 0 : 1, harness.Drops.Count);
        }

        var bytewise = RfbHarness.Ready(clipboardIn ? In : Closed);
        RfbHarness.AssertOpen(bytewise.ClientBytewise(stream));
        Assert.Equal(expected, bytewise.ToServer.WrittenSpan.ToArray());
    }

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ServerCutText_split_at_every_byte_is_dropped_or_forwarded_whole(bool clipboardOut)
    {
        byte[] stream = [2, .. Rfb.CutText(ServerCutText, Secret), 2];
        byte[] expected = clipboardOut ? stream : [2, 2];

        for (var cut = 1; cut < stream.Length; cut++)
        {
            var harness = RfbHarness.Ready(clipboardOut ? Out : Closed);

            RfbHarness.AssertOpen(harness.ServerSplit(stream, cut));

            Assert.True(expected.AsSpan().SequenceEqual(harness.ToClient.WrittenSpan), $"cut at {cut}");
        }
    }

    [Theory]
    [InlineData(ClientCutText, 100, RfbCloseReason.None)]
    [InlineData(ClientCutText, 101, RfbCloseReason.CutTextTooLong)]
    [InlineData(ServerCutText, 100, RfbCloseReason.None)]
    [InlineData(ServerCutText, 101, RfbCloseReason.CutTextTooLong)]
    public void Cut_text_longer_than_the_policy_allows_closes_even_when_it_would_be_dropped(byte type, int length, RfbCloseReason expected)
    {
        foreach (var policy in new[] { new RfbPolicy(MaxCutTextLength: 100), new RfbPolicy(true, true, 100) })
        {
            var harness = RfbHarness.Ready(policy);

            // Only the header: the filter decides before the text arrives.
            var header = Rfb.CutText(type, new byte[length])[..8];
            var result = type == ClientCutText ? harness.Client(header) : harness.Server(header);

            Assert.Equal(expected, result.CloseReason);
        }
    }

    [Theory]
    [InlineData(ClientCutText, uint.MaxValue)]
    [InlineData(ClientCutText, 0x80000000)]
    [InlineData(ServerCutText, 0x80000000)]
    [InlineData(ServerCutText, 0x7FFFFFFF)]
    [InlineData(ServerCutText, 0xFFEFFFFF)]
    public void A_huge_cut_text_length_either_sign_closes(byte type, uint length)
    {
        var harness = RfbHarness.Ready(Both);
        byte[] header = [type, 0, 0, 0, .. Rfb.U32(length)];

        var result = type == ClientCutText ? harness.Client(header) : harness.Server(header);

        // 0xFFFFFFFF is -1: an extended message too short to hold its flags.
        Assert.Equal(length == uint.MaxValue ? RfbCloseReason.MalformedMessage : RfbCloseReason.CutTextTooLong, result.CloseReason);
        Assert.Empty(harness.Drops);
    }

    [Fact]
    public void An_empty_cut_text_is_dropped_or_forwarded_like_any_other()
    {
        var closed = RfbHarness.Ready();
        RfbHarness.AssertOpen(closed.Client([.. Rfb.CutText(ClientCutText, []), .. Rfb.KeyEvent()]));
        Assert.Equal(Rfb.KeyEvent(), closed.ToServer.WrittenSpan.ToArray());
        Assert.Equal([new RfbClipboardDrop(RfbDirection.ClientToServer, 0, false)], closed.Drops);

        var open = RfbHarness.Ready(In);
        RfbHarness.AssertOpen(open.Client(Rfb.CutText(ClientCutText, [])));
        Assert.Equal(Rfb.CutText(ClientCutText, []), open.ToServer.WrittenSpan.ToArray());
    }

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [MemberData(nameof(Policies))]
    public void The_extended_clipboard_pseudo_encoding_is_kept_only_when_a_direction_is_open(string name, bool clipboardIn, bool clipboardOut)
    {
        var harness = RfbHarness.Ready(new RfbPolicy(clipboardIn, clipboardOut));

        RfbHarness.AssertOpen(harness.Client(Rfb.SetEncodings(0, Rfb.ExtendedClipboard, 1)));

        var expected = clipboardIn || clipboardOut ? Rfb.SetEncodings(0, Rfb.ExtendedClipboard, 1) : Rfb.SetEncodings(0, 1);
        Assert.True(expected.AsSpan().SequenceEqual(harness.ToServer.WrittenSpan), name);
    }

    /// <summary>Extended messages each way under each policy, with the pseudo-encoding asked for: forwarded or dropped.</summary>
    public static TheoryData<string, byte, uint, bool, bool, bool> ExtendedCases => new()
    {
        // name, type, flags, in, out, forwarded
        { "client caps, in", ClientCutText, Rfb.Caps | Rfb.Text, true, false, true },
        { "client caps, out", ClientCutText, Rfb.Caps | Rfb.Text, false, true, true },
        { "client provide, in", ClientCutText, Rfb.Provide | Rfb.Text, true, false, true },
        { "client provide, out", ClientCutText, Rfb.Provide | Rfb.Text, false, true, false },
        { "client notify, in", ClientCutText, Rfb.Notify | Rfb.Text, true, false, true },
        { "client notify, out", ClientCutText, Rfb.Notify | Rfb.Text, false, true, false },
        { "client request, out", ClientCutText, Rfb.Request | Rfb.Text, false, true, true },
        { "client request, in", ClientCutText, Rfb.Request | Rfb.Text, true, false, false },
        { "client peek, out", ClientCutText, Rfb.Peek, false, true, true },
        { "client peek, in", ClientCutText, Rfb.Peek, true, false, false },
        { "client provide and request, in", ClientCutText, Rfb.Provide | Rfb.Request | Rfb.Text, true, false, false },
        { "client provide and request, both", ClientCutText, Rfb.Provide | Rfb.Request | Rfb.Text, true, true, true },
        { "server caps, out", ServerCutText, Rfb.Caps | Rfb.Text, false, true, true },
        { "server caps, in", ServerCutText, Rfb.Caps | Rfb.Text, true, false, true },
        { "server provide, out", ServerCutText, Rfb.Provide | Rfb.Text, false, true, true },
        { "server provide, in", ServerCutText, Rfb.Provide | Rfb.Text, true, false, false },
        { "server notify, out", ServerCutText, Rfb.Notify | Rfb.Text, false, true, true },
        { "server notify, in", ServerCutText, Rfb.Notify | Rfb.Text, true, false, false },
        { "server request, in", ServerCutText, Rfb.Request | Rfb.Text, true, false, true },
        { "server request, out", ServerCutText, Rfb.Request | Rfb.Text, false, true, false },
        { "server peek, in", ServerCutText, Rfb.Peek, true, false, true },
        { "server peek, out", ServerCutText, Rfb.Peek, false, true, false },
    };

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [MemberData(nameof(ExtendedCases))]
    public void An_extended_clipboard_message_crosses_only_when_every_direction_its_action_needs_is_open(
        string name, byte type, uint flags, bool clipboardIn, bool clipboardOut, bool forwarded)
    {
        var message = Rfb.ExtendedCutText(type, flags, Secret);
        byte[] stream = type == ClientCutText ? [.. message, .. Rfb.KeyEvent()] : [.. message, 2];
        byte[] tail = stream[message.Length..];

        for (var cut = 1; cut < stream.Length; cut++)
        {
            var harness = RfbHarness.Ready(new RfbPolicy(clipboardIn, clipboardOut), encodings: [0, Rfb.ExtendedClipboard]);

            RfbHarness.AssertOpen(type == ClientCutText ? harness.ClientSplit(stream, cut) : harness.ServerSplit(stream, cut));

            var output = type == ClientCutText ? harness.ToServer : harness.ToClient;
            Assert.True((forwarded ? stream : tail).AsSpan().SequenceEqual(output.WrittenSpan), $"{name}, cut at {cut}");
            Assert.Equal(forwarded ? 0 : 1, harness.Drops.Count);
        }
    }

    [Trait("Requirement", "TIR-25")]
    [Theory]
    [InlineData(ClientCutText)]
    [InlineData(ServerCutText)]
    public void An_extended_message_without_the_pseudo_encoding_negotiated_is_dropped_even_when_the_policy_is_open(byte type)
    {
        var harness = RfbHarness.Ready(Both, encodings: [0, 1]);
        var message = Rfb.ExtendedCutText(type, Rfb.Provide | Rfb.Text, Secret);

        RfbHarness.AssertOpen(type == ClientCutText ? harness.Client(message) : harness.Server(message));

        Assert.Equal(0, (type == ClientCutText ? harness.ToServer : harness.ToClient).WrittenCount);
        var direction = type == ClientCutText ? RfbDirection.ClientToServer : RfbDirection.ServerToClient;
        Assert.Equal([new RfbClipboardDrop(direction, Secret.Length + 4, true)], harness.Drops);
    }

    [Trait("Requirement", "TIR-25")]
    [Fact]
    public void With_the_default_policy_an_extended_message_is_dropped_and_its_size_reported()
    {
        var harness = RfbHarness.Ready(encodings: [0, Rfb.ExtendedClipboard]);

        RfbHarness.AssertOpen(harness.Client([.. Rfb.ExtendedCutText(ClientCutText, Rfb.Provide | Rfb.Text, Secret), .. Rfb.PointerEvent()]));

        Assert.Equal(Rfb.PointerEvent(), harness.ToServer.WrittenSpan.ToArray());
        Assert.Equal([new RfbClipboardDrop(RfbDirection.ClientToServer, Secret.Length + 4, true)], harness.Drops);
        Assert.Equal(Secret.Length + 4, harness.Session.ClientToServer.Counters.ClipboardDroppedBytes);
    }

    [Theory]
    [InlineData(0u)] // no action
    [InlineData(Rfb.Text)] // a format but no action
    [InlineData(1u << 29)] // an action that does not exist
    [InlineData((1u << 31) | Rfb.Caps)]
    public void Extended_flags_without_a_known_action_close(uint flags)
    {
        var harness = RfbHarness.Ready(Both, encodings: [0, Rfb.ExtendedClipboard]);

        var result = harness.Client(Rfb.ExtendedCutText(ClientCutText, flags, Secret));

        Assert.Equal(RfbCloseReason.MalformedMessage, result.CloseReason);
        Assert.Equal(0, harness.ToServer.WrittenCount);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-3)]
    public void An_extended_length_too_short_for_its_flags_closes(int length)
    {
        var harness = RfbHarness.Ready(Both, encodings: [0, Rfb.ExtendedClipboard]);

        Assert.Equal(RfbCloseReason.MalformedMessage, harness.Server([ServerCutText, 0, 0, 0, .. Rfb.S32(length)]).CloseReason);
    }

    [Theory]
    [InlineData(-100, RfbCloseReason.None)]
    [InlineData(-101, RfbCloseReason.CutTextTooLong)]
    [InlineData(-4, RfbCloseReason.None)]
    public void The_extended_length_counts_against_the_same_limit(int length, RfbCloseReason expected)
    {
        var harness = RfbHarness.Ready(new RfbPolicy(true, true, 100), encodings: [0, Rfb.ExtendedClipboard]);

        Assert.Equal(expected, harness.Client([ClientCutText, 0, 0, 0, .. Rfb.S32(length)]).CloseReason);
    }
}
