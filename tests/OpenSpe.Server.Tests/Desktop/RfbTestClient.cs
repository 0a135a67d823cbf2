using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace OpenSpe.Server.Tests.Desktop;

/// <summary>An RFB 3.8 client over the gateway's WebSocket, byte by byte (RFC 6143), keeping every byte it received.</summary>
public sealed class RfbTestClient(ClientWebSocket socket) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly MemoryStream _received = new();
    private readonly byte[] _buffer = new byte[256 * 1024];

    public ClientWebSocket Socket { get; } = socket;

    /// <summary>Every byte received so far, in order.</summary>
    public byte[] Received => _received.ToArray();

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>The close status, once the gateway closed.</summary>
    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    /// <summary>Version, security None, ClientInit, ServerInit; then SetEncodings (Raw only).</summary>
    public async Task HandshakeAsync()
    {
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await ReadAsync(12)));
        await SendAsync("RFB 003.008\n"u8.ToArray());
        var count = (await ReadAsync(1))[0];
        var types = await ReadAsync(count);
        Assert.Equal([1], types);
        await SendAsync([1]);
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(await ReadAsync(4)));
        await SendAsync([1]);
        var init = await ReadAsync(24);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init);
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        var nameLength = BinaryPrimitives.ReadInt32BigEndian(init.AsSpan(20));
        await ReadAsync(nameLength);
        await SendAsync([2, 0, 0, 1, 0, 0, 0, 0]);
    }

    /// <summary>Asks for the whole screen (not incremental) and reads one FramebufferUpdate of Raw rectangles; returns its bytes.</summary>
    public async Task<byte[]> RequestFrameAsync()
    {
        await SendAsync([3, 0, 0, 0, 0, 0, (byte)(Width >> 8), (byte)Width, (byte)(Height >> 8), (byte)Height]);
        return await ReadUpdateAsync();
    }

    /// <summary>Reads one FramebufferUpdate (Raw, 32 bpp, or pseudo-encodings without payload).</summary>
    public async Task<byte[]> ReadUpdateAsync()
    {
        var header = await ReadAsync(4);
        Assert.Equal(0, header[0]);
        var rectangles = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
        using var update = new MemoryStream();
        update.Write(header);
        for (var i = 0; i < rectangles; i++)
        {
            var rectangle = await ReadAsync(12);
            update.Write(rectangle);
            var w = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(4));
            var h = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(6));
            var encoding = BinaryPrimitives.ReadInt32BigEndian(rectangle.AsSpan(8));
            Assert.Equal(0, encoding);
            update.Write(await ReadAsync(w * h * 4));
        }

        return update.ToArray();
    }

    public Task KeyAsync(uint key, bool down) =>
        SendAsync([4, down ? (byte)1 : (byte)0, 0, 0, (byte)(key >> 24), (byte)(key >> 16), (byte)(key >> 8), (byte)key]);

    public Task PointerAsync(int x, int y) => SendAsync([5, 0, (byte)(x >> 8), (byte)x, (byte)(y >> 8), (byte)y]);

    public Task CutTextAsync(string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        var message = new byte[8 + bytes.Length];
        message[0] = 6;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), bytes.Length);
        bytes.CopyTo(message, 8);
        return SendAsync(message);
    }

    public Task SendAsync(byte[] bytes) => Socket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken).WaitAsync(Deadline);

    /// <summary>Reads until the gateway closes; returns its close status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync()
    {
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer, TestContext.Current.CancellationToken).WaitAsync(Deadline);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (Socket.State == WebSocketState.CloseReceived)
                {
                    await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
                }

                return Socket.CloseStatus;
            }

            _received.Write(_buffer, 0, result.Count);
        }
    }

    private byte[] _pending = [];
    private int _pendingOffset;

    private async Task<byte[]> ReadAsync(int count)
    {
        var result = new byte[count];
        var filled = 0;
        while (true)
        {
            var take = Math.Min(count - filled, _pending.Length - _pendingOffset);
            Array.Copy(_pending, _pendingOffset, result, filled, take);
            _pendingOffset += take;
            filled += take;
            if (filled == count)
            {
                return result;
            }

            var received = await Socket.ReceiveAsync(_buffer, TestContext.Current.CancellationToken).WaitAsync(Deadline);
            Assert.True(received.MessageType == WebSocketMessageType.Binary, $"expected RFB bytes, got {received.MessageType} {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            _received.Write(_buffer, 0, received.Count);
            _pending = _buffer.AsSpan(0, received.Count).ToArray();
            _pendingOffset = 0;
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        _received.Dispose();
    }
}
