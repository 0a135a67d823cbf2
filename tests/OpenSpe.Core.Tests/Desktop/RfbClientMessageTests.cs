using OpenSpe.Core.Desktop;

namespace OpenSpe.Core.Tests.Desktop;

/// <summary>The client-to-server messages after ServerInit, framed at byte level.</summary>
public sealed class RfbClientMessageTests
{
    /// <summary>Every client message the gateway passes unchanged.</summary>
    public static TheoryData<string, byte[]> PassedUnchanged => new()
    {
        { "SetPixelFormat 32", Rfb.SetPixelFormat(32, 24) },
        { "SetPixelFormat 16", Rfb.SetPixelFormat(16, 16) },
        { "SetPixelFormat 8", Rfb.SetPixelFormat(8, 8) },
        { "SetPixelFormat 8 at depth 1", Rfb.SetPixelFormat(8, 1) },
        { "SetEncodings of framed ones", Rfb.SetEncodings(1, 0, -223, -224, -239) },
        { "SetEncodings empty", Rfb.SetEncodings() },
        { "FramebufferUpdateRequest", Rfb.UpdateRequest(incremental: true) },
        { "KeyEvent", Rfb.KeyEvent() },
        { "PointerEvent", Rfb.PointerEvent(1, 300, 200) },
    };

    [Theory]
    [MemberData(nameof(PassedUnchanged))]
    public void A_message_split_at_any_byte_is_forwarded_whole_and_unchanged(string name, byte[] message)
    {
        for (var cut = 0; cut <= message.Length; cut++)
        {
            var harness = RfbHarness.Ready();

            RfbHarness.AssertOpen(harness.ClientSplit(message, cut));

            Assert.True(message.AsSpan().SequenceEqual(harness.ToServer.WrittenSpan), $"{name} cut at {cut}");
            Assert.Equal((message.Length, message.Length), harness.ClientBytes);
        }

        var bytewise = RfbHarness.Ready();
        RfbHarness.AssertOpen(bytewise.ClientBytewise(message));
        Assert.Equal(message, bytewise.ToServer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Several_messages_in_one_chunk_are_each_framed_and_input_is_counted()
    {
        var harness = RfbHarness.Ready();
        byte[] stream =
        [
            .. Rfb.SetPixelFormat(16, 16), .. Rfb.SetEncodings(0, 1), .. Rfb.UpdateRequest(), .. Rfb.KeyEvent(true), .. Rfb.KeyEvent(false),
            .. Rfb.PointerEvent(), .. Rfb.PointerEvent(1), .. Rfb.PointerEvent(0), .. Rfb.UpdateRequest(true),
        ];

        var result = harness.Client(stream);

        RfbHarness.AssertOpen(result);
        Assert.Equal(stream, harness.ToServer.WrittenSpan.ToArray());
        Assert.Equal((2, 3), (result.KeyEvents, result.PointerEvents));
        Assert.True(result.InputSeen);
        var counters = harness.Session.ClientToServer.Counters;
        Assert.Equal((2L, 3L), (counters.KeyEvents, counters.PointerEvents));
        Assert.Equal((stream.Length, stream.Length), harness.ClientBytes);
    }

    [Trait("Requirement", "TIR-24")]
    [Fact]
    public void Only_key_and_pointer_events_count_as_input()
    {
        var harness = RfbHarness.Ready();

        var other = harness.Client([.. Rfb.SetPixelFormat(32, 24), .. Rfb.SetEncodings(0), .. Rfb.UpdateRequest()]);
        var halfKey = harness.Client(Rfb.KeyEvent()[..7]);
        var key = harness.Client(Rfb.KeyEvent()[7..]);
        var pointer = harness.Client(Rfb.PointerEvent());

        Assert.False(other.InputSeen);
        Assert.False(halfKey.InputSeen);
        Assert.Equal((1, 0, true), (key.KeyEvents, key.PointerEvents, key.InputSeen));
        Assert.Equal((0, 1, true), (pointer.KeyEvents, pointer.PointerEvents, pointer.InputSeen));
    }

    [Fact]
    public void Every_split_of_a_stream_of_all_message_types_forwards_the_same_bytes()
    {
        byte[] stream =
        [
            .. Rfb.SetPixelFormat(32, 24), .. Rfb.SetEncodings(0, 7, 1), .. Rfb.UpdateRequest(), .. Rfb.KeyEvent(),
            .. Rfb.PointerEvent(), .. Rfb.CutText(6, "dropped"u8.ToArray()), .. Rfb.PointerEvent(2),
        ];
        byte[] expected =
        [
            .. Rfb.SetPixelFormat(32, 24), .. Rfb.SetEncodings(0, 1), .. Rfb.UpdateRequest(), .. Rfb.KeyEvent(),
            .. Rfb.PointerEvent(), .. Rfb.PointerEvent(2),
        ];

        for (var first = 1; first < stream.Length; first++)
        {
            var second = Math.Min(stream.Length, first + 7);
            var harness = RfbHarness.Ready();

            var result = harness.ClientSplit(stream, first, second);

            RfbHarness.AssertOpen(result);
            Assert.True(expected.AsSpan().SequenceEqual(harness.ToServer.WrittenSpan), $"cut at {first} and {second}");
            Assert.Equal((1, 2), (result.KeyEvents, result.PointerEvents));
        }
    }

    [Theory]
    [InlineData(1)] // FixColourMapEntries, not in RFC 6143's client set
    [InlineData(7)] // FileTransfer (TightVNC)
    [InlineData(150)] // EnableContinuousUpdates
    [InlineData(248)] // ClientFence
    [InlineData(250)] // xvp
    [InlineData(251)] // SetDesktopSize
    [InlineData(255)] // QEMU
    public void An_unknown_message_type_closes_and_nothing_of_it_is_forwarded(byte type)
    {
        var harness = RfbHarness.Ready();

        var result = harness.Client([.. Rfb.PointerEvent(), type, 0, 0, 0, .. Rfb.PointerEvent()]);

        Assert.Equal(RfbCloseReason.UnknownMessageType, result.CloseReason);
        Assert.Equal(Rfb.PointerEvent(), harness.ToServer.WrittenSpan.ToArray());
        Assert.Equal(1, result.PointerEvents);
    }

    [Fact]
    public void A_closed_filter_stays_closed_and_forwards_nothing_more()
    {
        var harness = RfbHarness.Ready();
        Assert.Equal(RfbCloseReason.UnknownMessageType, harness.Client([9]).CloseReason);

        var after = harness.Client(Rfb.PointerEvent());

        Assert.Equal(RfbCloseReason.UnknownMessageType, after.CloseReason);
        Assert.True(after.IsClosed);
        Assert.Equal(RfbCloseReason.UnknownMessageType, harness.Session.ClientToServer.CloseReason);
        Assert.False(after.InputSeen);
        Assert.Equal(0, harness.ToServer.WrittenCount);
        Assert.Equal((1, 0), harness.ClientBytes);
    }

    [Fact]
    public void SetEncodings_keeps_only_the_encodings_the_gateway_can_frame_and_rewrites_the_count()
    {
        var harness = RfbHarness.Ready();
        int[] asked = [7, 16, 6, 5, 21, 1, 0, -223, -224, -239, -308, -258, -312, -313, -307, Rfb.ExtendedClipboard, -32, -256, -314];

        RfbHarness.AssertOpen(harness.ClientSplit(Rfb.SetEncodings(asked), 3, 11));

        Assert.Equal(Rfb.SetEncodings(1, 0, -223, -224, -239), harness.ToServer.WrittenSpan.ToArray());
    }

    [Fact]
    public void SetEncodings_with_nothing_the_gateway_can_frame_is_sent_with_a_count_of_zero()
    {
        var harness = RfbHarness.Ready();

        RfbHarness.AssertOpen(harness.Client([.. Rfb.SetEncodings(7, 16), .. Rfb.KeyEvent()]));

        Assert.Equal([.. Rfb.SetEncodings(), .. Rfb.KeyEvent()], harness.ToServer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(512, RfbCloseReason.None)]
    [InlineData(513, RfbCloseReason.TooManyEncodings)]
    [InlineData(65535, RfbCloseReason.TooManyEncodings)]
    public void SetEncodings_is_bounded(int count, RfbCloseReason expected)
    {
        var harness = RfbHarness.Ready();

        var message = Rfb.SetEncodings(Enumerable.Range(0, count).Select(i => i % 2).ToArray());

        var result = harness.Client(message);

        Assert.Equal(expected, result.CloseReason);
        Assert.Equal(expected == RfbCloseReason.None ? message : [], harness.ToServer.WrittenSpan.ToArray());
    }

    [Fact]
    public void The_longest_SetEncodings_split_across_reads_is_gathered_whole()
    {
        var harness = RfbHarness.Ready();
        var message = Rfb.SetEncodings(Enumerable.Range(0, 512).Select(i => i % 2).ToArray());

        RfbHarness.AssertOpen(harness.ClientSplit(message, 5, 1000));

        Assert.Equal(message, harness.ToServer.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_filter_needs_somewhere_to_write()
    {
        var session = new RfbSession(new RfbPolicy());

        Assert.Throws<ArgumentNullException>(() => session.ClientToServer.Feed([1], null!));
        Assert.Throws<ArgumentNullException>(() => session.ServerToClient.Feed([1], null!));
    }

    [Theory]
    [InlineData(24, 24)]
    [InlineData(32, 33)]
    [InlineData(8, 0)]
    [InlineData(1, 1)]
    public void SetPixelFormat_the_rfc_does_not_allow_closes(int bitsPerPixel, int depth)
    {
        var harness = RfbHarness.Ready();

        Assert.Equal(RfbCloseReason.MalformedMessage, harness.Client(Rfb.SetPixelFormat(bitsPerPixel, depth)).CloseReason);
        Assert.Equal(0, harness.ToServer.WrittenCount);
    }

    [Fact]
    public void SetPixelFormat_after_an_update_request_closes()
    {
        var harness = RfbHarness.Ready();

        var result = harness.Client([.. Rfb.SetPixelFormat(16, 16), .. Rfb.UpdateRequest(), .. Rfb.SetPixelFormat(32, 24)]);

        Assert.Equal(RfbCloseReason.PixelFormatChangeAfterUpdateRequest, result.CloseReason);
        Assert.Equal([.. Rfb.SetPixelFormat(16, 16), .. Rfb.UpdateRequest()], harness.ToServer.WrittenSpan.ToArray());
    }
}
