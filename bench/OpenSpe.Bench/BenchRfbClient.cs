using System.Buffers.Binary;
using System.Text;

namespace OpenSpe.Bench;

/// <summary>
/// The least of an RFB 3.8 client (RFC 6143) the workspace benchmark needs, over any stream: the gateway's WebSocket
/// (through <see cref="System.Net.WebSockets.WebSocketStream"/>) or the VNC server's UNIX socket directly, so both paths
/// run the same bytes. Raw encoding only, so every update can be framed without decoding.
/// </summary>
internal sealed class BenchRfbClient(Stream stream, Func<string>? describeEnd = null) : IAsyncDisposable
{
    private readonly byte[] _scratch = new byte[64 * 1024];

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Version, security None, ClientInit (shared), ServerInit; then SetEncodings with Raw only.</summary>
    public async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var version = await ReadAsync(12, cancellationToken);
        if (Encoding.ASCII.GetString(version) != "RFB 003.008\n")
        {
            throw new InvalidOperationException("not an RFB 3.8 server");
        }

        await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken);
        var count = (await ReadAsync(1, cancellationToken))[0];
        var types = await ReadAsync(count, cancellationToken);
        if (!types.Contains((byte)1))
        {
            throw new InvalidOperationException("the server does not offer security type None");
        }

        await stream.WriteAsync(new byte[] { 1 }, cancellationToken);
        if (BinaryPrimitives.ReadInt32BigEndian(await ReadAsync(4, cancellationToken)) != 0)
        {
            throw new InvalidOperationException("security handshake failed");
        }

        await stream.WriteAsync(new byte[] { 1 }, cancellationToken);
        var init = await ReadAsync(24, cancellationToken);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init);
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        await ReadAsync(BinaryPrimitives.ReadInt32BigEndian(init.AsSpan(20)), cancellationToken);
        await stream.WriteAsync(new byte[] { 2, 0, 0, 1, 0, 0, 0, 0 }, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Asks for a region (not incremental) and reads the whole FramebufferUpdate; returns its size in bytes.</summary>
    public async Task<long> RequestAsync(int x, int y, int w, int h, CancellationToken cancellationToken)
    {
        var request = new byte[10];
        request[0] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), (ushort)w);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(8), (ushort)h);
        await stream.WriteAsync(request, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        return await ReadUpdateAsync(cancellationToken);
    }

    /// <summary>Asks for the whole screen and reads the update.</summary>
    public Task<long> RequestFrameAsync(CancellationToken cancellationToken) => RequestAsync(0, 0, Width, Height, cancellationToken);

    public ValueTask DisposeAsync() => stream.DisposeAsync();

    private async Task<long> ReadUpdateAsync(CancellationToken cancellationToken)
    {
        var header = await ReadAsync(4, cancellationToken);
        if (header[0] != 0)
        {
            throw new InvalidOperationException($"expected a FramebufferUpdate, got message type {header[0]}");
        }

        long total = 4;
        var rectangles = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
        for (var i = 0; i < rectangles; i++)
        {
            var rectangle = await ReadAsync(12, cancellationToken);
            var w = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(4));
            var h = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(6));
            var encoding = BinaryPrimitives.ReadInt32BigEndian(rectangle.AsSpan(8));
            // Raw carries w·h·4 bytes at 32 bpp; the pseudo-encodings a server may add (cursor, desktop size) are not asked for.
            var payload = encoding == 0 ? (long)w * h * 4 : throw new InvalidOperationException($"unexpected encoding {encoding}");
            await SkipAsync(payload, cancellationToken);
            total += 12 + payload;
        }

        return total;
    }

    private async Task SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            var n = (int)Math.Min(count, _scratch.Length);
            await FillAsync(_scratch.AsMemory(0, n), cancellationToken);
            count -= n;
        }
    }

    private async Task<byte[]> ReadAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await FillAsync(buffer, cancellationToken);
        return buffer;
    }

    private async Task FillAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException e) when (describeEnd is not null)
        {
            throw new InvalidOperationException("the session ended: " + describeEnd(), e);
        }
    }
}
