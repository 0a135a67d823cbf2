namespace OpenSpe.Core.Desktop;

/// <summary>
/// Gathers one fixed-size part of a message (a header, a rectangle header, an encoding list) that
/// may arrive split across any number of chunks. A part that lies whole in the chunk is handed out
/// in place, so the common case copies nothing.
/// </summary>
internal sealed class RfbFramer(int capacity)
{
    private readonly byte[] _buffer = new byte[capacity];
    private int _have;

    /// <summary>The first byte of the part being gathered (a message's type), from what is kept or else from <paramref name="input"/>, which is not empty.</summary>
    public byte First(ReadOnlySpan<byte> input) => _have > 0 ? _buffer[0] : input[0];

    /// <summary>
    /// Takes up to <paramref name="count"/> bytes of the part from <paramref name="input"/>; true with the
    /// whole part once it is complete (valid until the next call), false when the chunk ran out first.
    /// </summary>
    public bool TryTake(ref ReadOnlySpan<byte> input, int count, out ReadOnlySpan<byte> part)
    {
        if (_have == 0 && input.Length >= count)
        {
            part = input[..count];
            input = input[count..];
            return true;
        }

        var take = Math.Min(count - _have, input.Length);
        input[..take].CopyTo(_buffer.AsSpan(_have));
        _have += take;
        input = input[take..];
        if (_have < count)
        {
            part = default;
            return false;
        }

        _have = 0;
        part = _buffer.AsSpan(0, count);
        return true;
    }
}
