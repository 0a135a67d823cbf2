using OpenSpe.Core.Desktop;

namespace OpenSpe.Core.Tests.Desktop;

/// <summary>The server-to-client messages after ServerInit, FramebufferUpdate framed rectangle by rectangle.</summary>
public sealed class RfbServerMessageTests
{
    public static TheoryData<int> Depths => new() { 32, 16, 8 };

    [Theory]
    [MemberData(nameof(Depths))]
    public void A_raw_update_split_at_every_byte_is_forwarded_whole_and_what_follows_stays_framed(int bitsPerPixel)
    {
        var bytesPerPixel = bitsPerPixel / 8;
        byte[] stream =
        [
            .. Rfb.Update(
                Rfb.Rectangle(0, 0, 5, 3, 0, Rfb.Pixels(15, bytesPerPixel)),
                Rfb.Rectangle(60, 40, 4, 8, 0, Rfb.Pixels(32, bytesPerPixel, 7)),
                Rfb.Rectangle(1, 2, 3, 4, 1, [0, 9, 0, 8])),
            2,
            .. Rfb.Update(),
            .. Rfb.ColourMap(0, 2),
        ];

        for (var cut = 0; cut <= stream.Length; cut++)
        {
            var harness = RfbHarness.Updating(bitsPerPixel: bitsPerPixel);

            RfbHarness.AssertOpen(harness.ServerSplit(stream, cut));

            Assert.True(stream.AsSpan().SequenceEqual(harness.ToClient.WrittenSpan), $"{bitsPerPixel} bpp, cut at {cut}");
        }

        var bytewise = RfbHarness.Updating(bitsPerPixel: bitsPerPixel);
        RfbHarness.AssertOpen(bytewise.ServerBytewise(stream));
        Assert.Equal(stream, bytewise.ToClient.WrittenSpan.ToArray());
        Assert.Equal((stream.Length, stream.Length), bytewise.ServerBytes);
    }

    [Theory]
    [MemberData(nameof(Depths))]
    public void The_pixel_format_the_client_sets_frames_the_updates(int bitsPerPixel)
    {
        var harness = RfbHarness.Ready(bitsPerPixel: 32);
        RfbHarness.AssertOpen(harness.Client([.. Rfb.SetPixelFormat(bitsPerPixel, bitsPerPixel == 32 ? 24 : bitsPerPixel), .. Rfb.UpdateRequest()]));

        // A raw rectangle of the new size, then a Bell: a wrong pixel size would read the Bell as pixels or pixels as a message.
        byte[] stream = [.. Rfb.Update(Rfb.Rectangle(0, 0, 7, 5, 0, Rfb.Pixels(35, bitsPerPixel / 8))), 2];

        RfbHarness.AssertOpen(harness.Server(stream));
        Assert.Equal(stream, harness.ToClient.WrittenSpan.ToArray());
        Assert.Equal(RfbCloseReason.UnknownMessageType, harness.Server([9]).CloseReason);
    }

    [Fact]
    public void A_large_raw_update_fed_in_socket_sized_reads_is_forwarded_whole()
    {
        var harness = RfbHarness.Updating(width: 1280, height: 800);
        byte[] stream = [.. Rfb.Update(Rfb.Rectangle(0, 0, 1280, 800, 0, Rfb.Pixels(1280 * 800, 4))), 2];
        var chunks = stream.Chunk(65536).ToArray();

        RfbHarness.AssertOpen(harness.Server(chunks));

        Assert.True(stream.AsSpan().SequenceEqual(harness.ToClient.WrittenSpan));
    }

    [Fact]
    public void A_cursor_rectangle_carries_its_pixels_and_a_padded_bit_mask()
    {
        var harness = RfbHarness.Updating(encodings: [0, -239]);

        // 10 x 3 at 4 bytes: 120 bytes of pixels, then 2 bytes of mask per row.
        byte[] stream = [.. Rfb.Update(Rfb.Rectangle(2, 2, 10, 3, -239, Rfb.Pixels(32, 4)[..(120 + 6)])), 2];

        RfbHarness.AssertOpen(harness.ServerSplit(stream, 20, 100));
        Assert.Equal(stream, harness.ToClient.WrittenSpan.ToArray());

        // The Bell was read as a message: the next byte is one too.
        Assert.Equal(RfbCloseReason.UnknownMessageType, harness.Server([9]).CloseReason);
    }

    [Fact]
    public void DesktopSize_moves_the_bounds_the_next_rectangles_are_checked_against()
    {
        var harness = RfbHarness.Updating(encodings: [0, -223]);
        byte[] grow = Rfb.Update(Rfb.Rectangle(0, 0, 200, 100, -223, []), Rfb.Rectangle(190, 90, 10, 10, 0, Rfb.Pixels(100, 4)));

        RfbHarness.AssertOpen(harness.Server(grow));
        Assert.Equal(grow, harness.ToClient.WrittenSpan.ToArray());

        var shrink = Rfb.Update(Rfb.Rectangle(0, 0, 20, 10, -223, []), Rfb.Rectangle(15, 5, 6, 1, 1, [0, 0, 0, 0]));
        Assert.Equal(RfbCloseReason.RectangleOutOfBounds, harness.Server(shrink).CloseReason);
    }

    [Theory]
    [InlineData(0, 0, 64, 48, 0, RfbCloseReason.None)]
    [InlineData(1, 0, 64, 48, 0, RfbCloseReason.RectangleOutOfBounds)]
    [InlineData(0, 1, 64, 48, 0, RfbCloseReason.RectangleOutOfBounds)]
    [InlineData(0, 0, 65, 1, 0, RfbCloseReason.RectangleOutOfBounds)]
    [InlineData(0, 0, 1, 49, 0, RfbCloseReason.RectangleOutOfBounds)]
    [InlineData(63, 47, 1, 1, 1, RfbCloseReason.None)]
    [InlineData(64, 0, 1, 1, 1, RfbCloseReason.RectangleOutOfBounds)]
    [InlineData(0, 48, 1, 1, 1, RfbCloseReason.RectangleOutOfBounds)]
    [InlineData(65535, 65535, 65535, 65535, 0, RfbCloseReason.RectangleOutOfBounds)]
    public void A_rectangle_outside_the_framebuffer_closes(int x, int y, int width, int height, int encoding, RfbCloseReason expected)
    {
        var harness = RfbHarness.Updating(width: 64, height: 48);

        var result = harness.Server(Rfb.Update(Rfb.Rectangle(x, y, width, height, encoding, [])));

        Assert.Equal(expected, result.CloseReason);
    }

    [Theory]
    [InlineData(2)] // RRE
    [InlineData(5)] // Hextile
    [InlineData(6)] // Zlib
    [InlineData(7)] // Tight
    [InlineData(16)] // ZRLE
    [InlineData(-308)] // ExtendedDesktopSize
    [InlineData(-240)] // XCursor
    [InlineData(Rfb.ExtendedClipboard)]
    public void A_rectangle_in_an_encoding_the_gateway_cannot_frame_closes(int encoding)
    {
        var harness = RfbHarness.Updating();
        var result = harness.Server([.. Rfb.Update(Rfb.Rectangle(0, 0, 1, 1, 0, [1, 2, 3, 4])), 0, 0, 0, 1, .. Rfb.Rectangle(0, 0, 1, 1, encoding, [])]);

        Assert.Equal(RfbCloseReason.UnframeableEncoding, result.CloseReason);
        Assert.Equal([.. Rfb.Update(Rfb.Rectangle(0, 0, 1, 1, 0, [1, 2, 3, 4])), 0, 0, 0, 1], harness.ToClient.WrittenSpan.ToArray());
    }

    [Fact]
    public void An_update_the_client_did_not_ask_for_closes()
    {
        var harness = RfbHarness.Ready();

        Assert.Equal(RfbCloseReason.UnsolicitedUpdate, harness.Server(Rfb.Update()).CloseReason);
        Assert.Equal(0, harness.ToClient.WrittenCount);
    }

    [Fact]
    public void With_LastRect_asked_for_an_open_ended_update_ends_at_the_LastRect_rectangle()
    {
        var harness = RfbHarness.Updating(encodings: [0, -224]);
        byte[] stream =
        [
            .. Rfb.UpdateUntilLastRect(Rfb.Rectangle(0, 0, 2, 1, 0, Rfb.Pixels(2, 4)), Rfb.Rectangle(0, 0, 0, 0, -224, [])),
            2,
        ];

        RfbHarness.AssertOpen(harness.ServerBytewise(stream));

        Assert.Equal(stream, harness.ToClient.WrittenSpan.ToArray());
    }

    [Fact]
    public void Without_LastRect_asked_for_a_count_of_65535_is_a_count()
    {
        var harness = RfbHarness.Updating();

        // The next byte is read as a rectangle header, not as a Bell: the update is still open after one rectangle.
        RfbHarness.AssertOpen(harness.Server([.. Rfb.UpdateUntilLastRect(Rfb.Rectangle(0, 0, 1, 1, 0, [1, 2, 3, 4]))]));
        var result = harness.Server(Rfb.Rectangle(0, 0, 1, 1, -224, []));

        RfbHarness.AssertOpen(result);
        Assert.Equal(RfbCloseReason.UnknownMessageType, harness.Server([9]).CloseReason);
    }

    [Fact]
    public void With_LastRect_asked_for_an_update_of_65535_rectangles_is_open_ended()
    {
        var harness = RfbHarness.Updating(encodings: [0, 1, -224]);
        var rectangles = Enumerable.Repeat(Rfb.Rectangle(0, 0, 1, 1, 1, [0, 0, 0, 0]), 65535).ToArray();

        RfbHarness.AssertOpen(harness.Server(Rfb.UpdateUntilLastRect(rectangles)));

        // Still inside the update: the next byte starts a rectangle header, not a message.
        RfbHarness.AssertOpen(harness.Server([9]));
    }

    [Fact]
    public void With_LastRect_asked_for_a_counted_update_still_ends_after_its_count()
    {
        var harness = RfbHarness.Updating(encodings: [0, -224]);

        RfbHarness.AssertOpen(harness.Server([.. Rfb.Update(Rfb.Rectangle(0, 0, 1, 1, 0, [1, 2, 3, 4])), 2]));

        Assert.Equal(RfbCloseReason.UnknownMessageType, harness.Server([9]).CloseReason);
    }

    [Fact]
    public void LastRect_in_a_counted_update_ends_it_early()
    {
        var harness = RfbHarness.Updating(encodings: [0, -224]);
        byte[] stream = [.. Rfb.Update(Rfb.Rectangle(0, 0, 0, 0, -224, []), Rfb.Rectangle(0, 0, 0, 0, -224, [])).AsSpan(0, 4 + 12), 2];

        RfbHarness.AssertOpen(harness.Server(stream));

        Assert.Equal(stream, harness.ToClient.WrittenSpan.ToArray());
    }

    [Fact]
    public void SetColourMapEntries_and_Bell_are_forwarded_framed()
    {
        var harness = RfbHarness.Updating(bitsPerPixel: 8);
        byte[] stream = [.. Rfb.ColourMap(0, 256), 2, .. Rfb.ColourMap(10, 0), 2, .. Rfb.Update()];

        for (var cut = 1; cut < 20; cut++)
        {
            var split = RfbHarness.Updating(bitsPerPixel: 8);
            RfbHarness.AssertOpen(split.ServerSplit(stream, cut, stream.Length - cut));
            Assert.True(stream.AsSpan().SequenceEqual(split.ToClient.WrittenSpan), $"cut at {cut}");
        }

        RfbHarness.AssertOpen(harness.Server(stream));
        Assert.Equal(stream, harness.ToClient.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(4)] // ResizeFrameBuffer (UltraVNC)
    [InlineData(150)] // EndOfContinuousUpdates
    [InlineData(248)] // ServerFence
    [InlineData(250)] // xvp
    [InlineData(255)]
    public void An_unknown_server_message_type_closes(byte type)
    {
        var harness = RfbHarness.Updating();

        var result = harness.Server([2, type, 0, 0, 0]);

        Assert.Equal(RfbCloseReason.UnknownMessageType, result.CloseReason);
        Assert.Equal([2], harness.ToClient.WrittenSpan.ToArray());
    }
}
