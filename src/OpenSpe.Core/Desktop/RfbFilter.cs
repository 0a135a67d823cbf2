using System.Buffers;

namespace OpenSpe.Core.Desktop;

/// <summary>
/// An incremental RFB filter of one direction: fed chunks cut at any byte, it emits the bytes to
/// forward (whole messages, rewritten ones, or the streamed parts of long payloads) and closes the
/// session on anything it cannot frame or must not let through.
/// </summary>
public abstract class RfbFilter
{
    private readonly RfbFramer _framer;
    private readonly RfbDirection _direction;
    private readonly byte[] _cutHeader = new byte[8];
    private long _payloadLeft;
    private bool _payloadForwarded;
    private RfbCloseReason _closed;
    private int _keyEvents;
    private int _pointerEvents;

    private protected RfbFilter(RfbSession session, RfbDirection direction, int largestPart)
    {
        Session = session;
        _direction = direction;
        _framer = new RfbFramer(largestPart);
    }

    /// <summary>The totals of this direction so far.</summary>
    public RfbCounters Counters { get; } = new();

    /// <summary>Why this filter closed the session, or <see cref="RfbCloseReason.None"/>.</summary>
    public RfbCloseReason CloseReason => _closed;

    private protected RfbSession Session { get; }

    /// <summary>The clipboard direction of this stream is open: <c>in</c> for the client's, <c>out</c> for the server's.</summary>
    private bool OwnDirectionOpen => _direction == RfbDirection.ClientToServer ? Session.Policy.ClipboardIn : Session.Policy.ClipboardOut;

    private bool OppositeDirectionOpen => _direction == RfbDirection.ClientToServer ? Session.Policy.ClipboardOut : Session.Policy.ClipboardIn;

    /// <summary>
    /// Filters the next chunk of this direction and writes what may be forwarded to <paramref name="output"/>.
    /// Once a result is closed, every later call emits nothing and returns the same reason.
    /// </summary>
    public RfbFeedResult Feed(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_closed != RfbCloseReason.None)
        {
            return new RfbFeedResult(_closed, 0, 0);
        }

        Counters.BytesIn += input.Length;
        _keyEvents = 0;
        _pointerEvents = 0;
        while (!input.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                PassPayload(ref input, output);
                continue;
            }

            var reason = Step(ref input, output);
            if (reason != RfbCloseReason.None)
            {
                _closed = reason;
                break;
            }
        }

        Counters.KeyEvents += _keyEvents;
        Counters.PointerEvents += _pointerEvents;
        return new RfbFeedResult(_closed, _keyEvents, _pointerEvents);
    }

    /// <summary>Handles the next part of the stream: consumes at least one byte of a non-empty input, or returns why the session must close.</summary>
    private protected abstract RfbCloseReason Step(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output);

    private protected byte MessageType(ReadOnlySpan<byte> input) => _framer.First(input);

    private protected bool TryTake(ref ReadOnlySpan<byte> input, int count, out ReadOnlySpan<byte> part) =>
        _framer.TryTake(ref input, count, out part);

    private protected void Emit(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        output.Write(bytes);
        Counters.BytesForwarded += bytes.Length;
    }

    private protected void Emitted(int count) => Counters.BytesForwarded += count;

    /// <summary>The next <paramref name="length"/> bytes are a payload that is forwarded as it arrives.</summary>
    private protected void ForwardPayload(long length)
    {
        _payloadLeft = length;
        _payloadForwarded = true;
    }

    private protected void KeyEvent() => _keyEvents++;

    private protected void PointerEvent() => _pointerEvents++;

    /// <summary>
    /// The 8-byte header of ClientCutText or ServerCutText. A non-negative length is RFC 6143 Latin-1 text,
    /// decided at once; a negative one is the Extended Clipboard format, whose flags word must be read
    /// first (<paramref name="flagsFollow"/>).
    /// </summary>
    private protected RfbCloseReason CutTextHeader(ReadOnlySpan<byte> header, IBufferWriter<byte> output, out bool flagsFollow)
    {
        flagsFollow = false;
        var length = RfbWire.S32(header, 4);
        var max = Session.Policy.MaxCutTextLength;
        if (length >= 0)
        {
            if (length > max)
            {
                return RfbCloseReason.CutTextTooLong;
            }

            // Note: plain cut text crosses only in a direction the permit opens (TIR-25).
            Decide(OwnDirectionOpen, header, [], length, length, extended: false, output);
            return RfbCloseReason.None;
        }

        // Note: -int.MinValue does not exist; it is an oversized length, not a small one.
        if (length == int.MinValue || -length > max)
        {
            return RfbCloseReason.CutTextTooLong;
        }

        if (-length < 4)
        {
            return RfbCloseReason.MalformedMessage;
        }

        header.CopyTo(_cutHeader);
        flagsFollow = true;
        return RfbCloseReason.None;
    }

    /// <summary>The flags word of an Extended Clipboard message whose header <see cref="CutTextHeader"/> kept.</summary>
    private protected RfbCloseReason CutTextFlags(ReadOnlySpan<byte> flags, IBufferWriter<byte> output)
    {
        var needs = RfbWire.RequiredDirections(RfbWire.U32(flags, 0));
        if (needs == ClipboardNeeds.Malformed)
        {
            return RfbCloseReason.MalformedMessage;
        }

        // Note: an extended message crosses only when the pseudo-encoding was negotiated (the gateway keeps it
        // only if the permit opens a direction) and every direction its actions need is open.
        var open = Session.ExtendedClipboardKept
            && (OwnDirectionOpen || (needs & ClipboardNeeds.Own) == 0)
            && (OppositeDirectionOpen || (needs & ClipboardNeeds.Opposite) == 0);
        var length = -RfbWire.S32(_cutHeader, 4);
        Decide(open, _cutHeader, flags, length - 4, length, extended: true, output);
        return RfbCloseReason.None;
    }

    private void Decide(bool open, ReadOnlySpan<byte> header, ReadOnlySpan<byte> flags, int payloadLeft, int length, bool extended, IBufferWriter<byte> output)
    {
        if (open)
        {
            Emit(output, header);
            Emit(output, flags);
            Counters.ClipboardForwarded++;
        }
        else
        {
            Counters.ClipboardDropped++;
            Counters.ClipboardDroppedBytes += length;
            Session.Observer?.ClipboardDropped(new RfbClipboardDrop(_direction, length, extended));
        }

        _payloadLeft = payloadLeft;
        _payloadForwarded = open;
    }

    private void PassPayload(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        var count = (int)Math.Min(_payloadLeft, input.Length);
        if (_payloadForwarded)
        {
            Emit(output, input[..count]);
        }

        _payloadLeft -= count;
        input = input[count..];
    }
}
