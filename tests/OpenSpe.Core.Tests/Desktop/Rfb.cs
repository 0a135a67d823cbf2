using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using OpenSpe.Core.Desktop;

namespace OpenSpe.Core.Tests.Desktop;

/// <summary>RFB messages as bytes, written from RFC 6143 and the Extended Clipboard description, for the filter tests.</summary>
internal static class Rfb
{
    public const int ExtendedClipboard = unchecked((int)0xC0A1E5CE);
    public const uint Caps = 1u << 24;
    public const uint Request = 1u << 25;
    public const uint Peek = 1u << 26;
    public const uint Notify = 1u << 27;
    public const uint Provide = 1u << 28;
    public const uint Text = 1;

    public static byte[] Version(string version = "003.008") => Encoding.ASCII.GetBytes($"RFB {version}\n");

    public static byte[] SecurityTypes(params byte[] types) => [(byte)types.Length, .. types];

    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    public static byte[] S32(int value) => U32(unchecked((uint)value));

    public static byte[] U16(int value) => [(byte)(value >> 8), (byte)value];

    public static byte[] PixelFormat(int bitsPerPixel, int depth) =>
        [(byte)bitsPerPixel, (byte)depth, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

    public static byte[] ServerInit(int width, int height, int bitsPerPixel = 32, int depth = 24, string name = "x") =>
        [.. U16(width), .. U16(height), .. PixelFormat(bitsPerPixel, depth), .. U32((uint)name.Length), .. Encoding.ASCII.GetBytes(name)];

    public static byte[] SetPixelFormat(int bitsPerPixel, int depth) => [0, 0, 0, 0, .. PixelFormat(bitsPerPixel, depth)];

    public static byte[] SetEncodings(params int[] encodings) =>
        [2, 0, .. U16(encodings.Length), .. encodings.SelectMany(S32)];

    public static byte[] UpdateRequest(bool incremental = false, int width = 64, int height = 48) =>
        [3, incremental ? (byte)1 : (byte)0, 0, 0, 0, 0, .. U16(width), .. U16(height)];

    public static byte[] KeyEvent(bool down = true, uint key = 0x61) => [4, down ? (byte)1 : (byte)0, 0, 0, .. U32(key)];

    public static byte[] PointerEvent(int buttons = 0, int x = 10, int y = 20) => [5, (byte)buttons, .. U16(x), .. U16(y)];

    /// <summary>ClientCutText (6) or ServerCutText (3) in the RFC 6143 form.</summary>
    public static byte[] CutText(byte type, byte[] text) => [type, 0, 0, 0, .. U32((uint)text.Length), .. text];

    /// <summary>An Extended Clipboard message: negative length, then flags, then the rest.</summary>
    public static byte[] ExtendedCutText(byte type, uint flags, byte[] rest) =>
        [type, 0, 0, 0, .. S32(-(rest.Length + 4)), .. U32(flags), .. rest];

    public static byte[] Update(params byte[][] rectangles) => [0, 0, .. U16(rectangles.Length), .. rectangles.SelectMany(r => r)];

    public static byte[] UpdateUntilLastRect(params byte[][] rectangles) => [0, 0, 0xFF, 0xFF, .. rectangles.SelectMany(r => r)];

    public static byte[] Rectangle(int x, int y, int width, int height, int encoding, byte[] payload) =>
        [.. U16(x), .. U16(y), .. U16(width), .. U16(height), .. S32(encoding), .. payload];

    public static byte[] Pixels(int count, int bytesPerPixel, byte seed = 1) =>
        Enumerable.Range(0, count * bytesPerPixel).Select(i => (byte)(seed + i)).ToArray();

    public static byte[] ColourMap(int first, int count) => [1, 0, .. U16(first), .. U16(count), .. Pixels(count, 6)];
}

/// <summary>A session driven through its handshake, with what each filter forwarded and the clipboard drops it reported.</summary>
internal sealed class RfbHarness : IRfbSessionObserver
{
    public RfbHarness(RfbPolicy? policy = null)
    {
        Session = new RfbSession(policy ?? new RfbPolicy(), this);
    }

    public RfbSession Session { get; }

    public ArrayBufferWriter<byte> ToServer { get; } = new();

    public ArrayBufferWriter<byte> ToClient { get; } = new();

    public List<RfbClipboardDrop> Drops { get; } = [];

    /// <summary>The client filter's bytes in and forwarded when the session became ready (the handshake's).</summary>
    public (long In, long Forwarded) ClientBytesAtReady { get; private set; }

    public (long In, long Forwarded) ServerBytesAtReady { get; private set; }

    /// <summary>Bytes in and forwarded by the client filter since the session became ready.</summary>
    public (long In, long Forwarded) ClientBytes =>
        (Session.ClientToServer.Counters.BytesIn - ClientBytesAtReady.In, Session.ClientToServer.Counters.BytesForwarded - ClientBytesAtReady.Forwarded);

    public (long In, long Forwarded) ServerBytes =>
        (Session.ServerToClient.Counters.BytesIn - ServerBytesAtReady.In, Session.ServerToClient.Counters.BytesForwarded - ServerBytesAtReady.Forwarded);

    public void ClipboardDropped(RfbClipboardDrop drop) => Drops.Add(drop);

    /// <summary>A session past ServerInit at the given size and depth, outputs cleared.</summary>
    public static RfbHarness Ready(RfbPolicy? policy = null, int width = 64, int height = 48, int bitsPerPixel = 32, params int[] encodings)
    {
        var harness = new RfbHarness(policy);
        harness.Handshake(width, height, bitsPerPixel);
        if (encodings.Length > 0)
        {
            RfbHarness.AssertOpen(harness.Client(Rfb.SetEncodings(encodings)));
        }

        harness.ToServer.Clear();
        harness.ToClient.Clear();
        harness.ClientBytesAtReady = (harness.Session.ClientToServer.Counters.BytesIn, harness.Session.ClientToServer.Counters.BytesForwarded);
        harness.ServerBytesAtReady = (harness.Session.ServerToClient.Counters.BytesIn, harness.Session.ServerToClient.Counters.BytesForwarded);
        return harness;
    }

    /// <summary>A session past ServerInit that has asked for an update, so the server may send one.</summary>
    public static RfbHarness Updating(RfbPolicy? policy = null, int width = 64, int height = 48, int bitsPerPixel = 32, params int[] encodings)
    {
        var harness = Ready(policy, width, height, bitsPerPixel, encodings);
        RfbHarness.AssertOpen(harness.Client(Rfb.UpdateRequest()));
        harness.ToServer.Clear();
        harness.ClientBytesAtReady = (harness.Session.ClientToServer.Counters.BytesIn, harness.Session.ClientToServer.Counters.BytesForwarded);
        return harness;
    }

    public void Handshake(int width = 64, int height = 48, int bitsPerPixel = 32)
    {
        AssertOpen(Server(Rfb.Version()));
        AssertOpen(Client(Rfb.Version()));
        AssertOpen(Server(Rfb.SecurityTypes(1)));
        AssertOpen(Client([1]));
        AssertOpen(Server(Rfb.U32(0)));
        AssertOpen(Client([1]));
        AssertOpen(Server(Rfb.ServerInit(width, height, bitsPerPixel, bitsPerPixel == 32 ? 24 : bitsPerPixel)));
    }

    public RfbFeedResult Client(params byte[][] chunks) => FeedAll(Session.ClientToServer, ToServer, chunks);

    public RfbFeedResult Server(params byte[][] chunks) => FeedAll(Session.ServerToClient, ToClient, chunks);

    /// <summary>Feeds the bytes cut at the given offsets; the inputs are copies, so a filter cannot keep a view of them.</summary>
    public RfbFeedResult ClientSplit(byte[] bytes, params int[] cuts) => Client(Cut(bytes, cuts));

    public RfbFeedResult ServerSplit(byte[] bytes, params int[] cuts) => Server(Cut(bytes, cuts));

    public RfbFeedResult ClientBytewise(byte[] bytes) => Client(bytes.Select(b => new[] { b }).ToArray());

    public RfbFeedResult ServerBytewise(byte[] bytes) => Server(bytes.Select(b => new[] { b }).ToArray());

    public static byte[][] Cut(byte[] bytes, params int[] cuts)
    {
        var chunks = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            chunks.Add(bytes[start..cut]);
            start = cut;
        }

        return chunks.ToArray();
    }

    public static void AssertOpen(RfbFeedResult result)
    {
        Assert.Equal(RfbCloseReason.None, result.CloseReason);
        Assert.False(result.IsClosed);
    }

    private static RfbFeedResult FeedAll(RfbFilter filter, ArrayBufferWriter<byte> output, byte[][] chunks)
    {
        var keys = 0;
        var pointers = 0;
        var reason = RfbCloseReason.None;
        foreach (var chunk in chunks)
        {
            var result = filter.Feed(chunk, output);
            keys += result.KeyEvents;
            pointers += result.PointerEvents;
            reason = result.CloseReason;
        }

        return new RfbFeedResult(reason, keys, pointers);
    }
}
