using System.Buffers;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using OpenSpe.Core.Desktop;

namespace OpenSpe.Bench;

/// <summary>
/// What the desktop gateway's RFB filters cost per message (<c>OpenSpe.Core.Desktop</c>, no I/O):
/// pointer events one per feed (noVNC sends each in its own WebSocket frame) and packed in 64 KiB reads,
/// and a full 1280 × 800 × 32 bpp Raw FramebufferUpdate in 64 KiB reads. The output writer is reset
/// after each feed, as the gateway does once it has sent the bytes.
/// </summary>
[Config(typeof(RfbBenchConfig))]
public class RfbFilterBenchmark
{
    public const int PointerEvents = 100_000;
    public const int Frames = 20;
    private const int Width = 1280;
    private const int Height = 800;
    private const int ReadSize = 65536;

    private readonly ArrayBufferWriter<byte> _output = new(ReadSize * 2);
    private byte[] _pointerStream = [];
    private byte[] _frame = [];

    [GlobalSetup]
    public void Setup()
    {
        _pointerStream = new byte[PointerEvents * 6];
        for (var i = 0; i < PointerEvents; i++)
        {
            var at = _pointerStream.AsSpan(i * 6, 6);
            at[0] = 5;
            at[1] = (byte)(i & 1);
            BinaryPrimitives.WriteUInt16BigEndian(at[2..], (ushort)(i % Width));
            BinaryPrimitives.WriteUInt16BigEndian(at[4..], (ushort)(i % Height));
        }

        _frame = new byte[4 + 12 + (Width * Height * 4)];
        _frame[3] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(_frame.AsSpan(8), Width);
        BinaryPrimitives.WriteUInt16BigEndian(_frame.AsSpan(10), Height);
        Random.Shared.NextBytes(_frame.AsSpan(16));
    }

    [Benchmark(OperationsPerInvoke = PointerEvents, Description = "pointer event, one per feed")]
    public long PointerEventPerFeed()
    {
        var filter = ReadySession().ClientToServer;
        long forwarded = 0;
        for (var offset = 0; offset < _pointerStream.Length; offset += 6)
        {
            filter.Feed(_pointerStream.AsSpan(offset, 6), _output);
            forwarded += _output.WrittenCount;
            _output.ResetWrittenCount();
        }

        return forwarded;
    }

    [Benchmark(OperationsPerInvoke = PointerEvents, Description = "pointer event, 64 KiB reads")]
    public long PointerEventsPacked()
    {
        var filter = ReadySession().ClientToServer;
        return FeedInReads(filter, _pointerStream);
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "Raw 1280x800x32bpp update, 64 KiB reads")]
    public long RawFrame()
    {
        var session = ReadySession();
        long forwarded = 0;
        for (var frame = 0; frame < Frames; frame++)
        {
            session.ClientToServer.Feed([3, 0, 0, 0, 0, 0, 5, 0, 3, 32], _output);
            _output.ResetWrittenCount();
            forwarded += FeedInReads(session.ServerToClient, _frame);
        }

        return forwarded;
    }

    private long FeedInReads(RfbFilter filter, byte[] stream)
    {
        long forwarded = 0;
        for (var offset = 0; offset < stream.Length; offset += ReadSize)
        {
            var result = filter.Feed(stream.AsSpan(offset, Math.Min(ReadSize, stream.Length - offset)), _output);
            if (result.IsClosed)
            {
                throw new InvalidOperationException($"The filter closed: {result.CloseReason}");
            }

            forwarded += _output.WrittenCount;
            _output.ResetWrittenCount();
        }

        return forwarded;
    }

    /// <summary>A session past ServerInit (1280 × 800, 32 bpp), as the gateway has it once the desktop shows.</summary>
    private RfbSession ReadySession()
    {
        var session = new RfbSession(new RfbPolicy());
        byte[] version = "RFB 003.008\n"u8.ToArray();
        byte[] serverInit = [5, 0, 3, 32, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0, 0, 0, 0, 0];
        session.ServerToClient.Feed(version, _output);
        session.ClientToServer.Feed(version, _output);
        session.ServerToClient.Feed([1, 1], _output);
        session.ClientToServer.Feed([1], _output);
        session.ServerToClient.Feed([0, 0, 0, 0], _output);
        session.ClientToServer.Feed([1], _output);
        var result = session.ServerToClient.Feed(serverInit, _output);
        _output.ResetWrittenCount();
        return result.IsClosed ? throw new InvalidOperationException($"The handshake closed: {result.CloseReason}") : session;
    }
}

/// <summary>The house short job, with allocations per operation.</summary>
public sealed class RfbBenchConfig : ManualConfig
{
    public RfbBenchConfig()
    {
        AddJob(BenchConfig.ShortJob);
        AddColumn(StatisticColumn.OperationsPerSecond);
        AddColumn(StatisticColumn.Min, StatisticColumn.Max);
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
