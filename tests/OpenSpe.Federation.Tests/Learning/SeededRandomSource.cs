using OpenSpe.Federation.Learning;

namespace OpenSpe.Federation.Tests.Learning;

/// <summary>A repeatable source for tests (System.Random with a seed); never for production, which uses the OS generator.</summary>
internal sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public void Fill(Span<byte> buffer) => _random.NextBytes(buffer);
}

/// <summary>A source that hands out exactly the bytes given, to walk the samplers down known paths.</summary>
internal sealed class ScriptedRandomSource(params byte[] bytes) : IRandomSource
{
    private int _next;

    public int Used => _next;

    public void Fill(Span<byte> buffer)
    {
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = _next < bytes.Length ? bytes[_next++] : throw new InvalidOperationException("script exhausted");
        }
    }
}
