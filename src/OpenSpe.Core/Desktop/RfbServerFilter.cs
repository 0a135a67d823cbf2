using System.Buffers;

namespace OpenSpe.Core.Desktop;

/// <summary>
/// The server-to-browser direction: ProtocolVersion, the security types (rewritten to None only),
/// SecurityResult, ServerInit, then FramebufferUpdate (framed rectangle by rectangle), SetColourMapEntries,
/// Bell and ServerCutText. Any other message type, or a rectangle it cannot frame, closes the session.
/// </summary>
public sealed class RfbServerFilter : RfbFilter
{
    private State _state;
    private int _securityTypeCount;
    private int _rectanglesLeft;
    private bool _untilLastRect;
    private int _width;
    private int _height;

    internal RfbServerFilter(RfbSession session)
        : base(session, RfbDirection.ServerToClient, 255)
    {
    }

    private enum State
    {
        Version,
        SecurityTypeCount,
        SecurityTypes,
        SecurityResult,
        ServerInit,
        Message,
        Rectangle,
        CutTextFlags,
    }

    private protected override RfbCloseReason Step(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        switch (_state)
        {
            case State.Version:
                if (!TryTake(ref input, RfbWire.ProtocolVersionLength, out var version))
                {
                    return RfbCloseReason.None;
                }

                if (!RfbWire.IsSupportedVersion(version))
                {
                    return RfbCloseReason.UnsupportedVersion;
                }

                Session.ServerVersionSeen = true;
                Emit(output, version);
                _state = State.SecurityTypeCount;
                return RfbCloseReason.None;

            case State.SecurityTypeCount:
                if (!Session.ClientVersionSeen)
                {
                    return RfbCloseReason.OutOfOrder;
                }

                TryTake(ref input, 1, out var count);
                _securityTypeCount = count[0];
                _state = State.SecurityTypes;

                // A count of zero is the server refusing the connection; its reason string is not needed.
                return _securityTypeCount == 0 ? RfbCloseReason.ServerRefused : RfbCloseReason.None;

            case State.SecurityTypes:
                if (!TryTake(ref input, _securityTypeCount, out var types))
                {
                    return RfbCloseReason.None;
                }

                if (!types.Contains(RfbWire.SecurityTypeNone))
                {
                    return RfbCloseReason.NoneSecurityNotOffered;
                }

                // Note: the client is offered None alone, because the gateway has already authenticated the person
                // and the VNC server's own security types must not become a second way in.
                Session.SecurityOffered = true;
                Emit(output, [1, RfbWire.SecurityTypeNone]);
                _state = State.SecurityResult;
                return RfbCloseReason.None;

            case State.SecurityResult:
                if (!Session.SecurityChosen)
                {
                    return RfbCloseReason.OutOfOrder;
                }

                if (!TryTake(ref input, 4, out var result))
                {
                    return RfbCloseReason.None;
                }

                if (RfbWire.U32(result, 0) != 0)
                {
                    return RfbCloseReason.ServerRefused;
                }

                Session.SecurityAccepted = true;
                Emit(output, result);
                _state = State.ServerInit;
                return RfbCloseReason.None;

            case State.ServerInit:
                return ServerInit(ref input, output);

            case State.Rectangle:
                return Rectangle(ref input, output);

            case State.CutTextFlags:
                if (!TryTake(ref input, 4, out var flags))
                {
                    return RfbCloseReason.None;
                }

                _state = State.Message;
                return CutTextFlags(flags, output);

            default:
                return Message(ref input, output);
        }
    }

    private RfbCloseReason ServerInit(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        if (!Session.ClientInitSent)
        {
            return RfbCloseReason.OutOfOrder;
        }

        // width, height, PIXEL_FORMAT (16), name length; the name follows.
        if (!TryTake(ref input, 24, out var init))
        {
            return RfbCloseReason.None;
        }

        var bytesPerPixel = RfbWire.BytesPerPixel(init[4..]);
        if (bytesPerPixel == 0)
        {
            return RfbCloseReason.MalformedMessage;
        }

        var nameLength = RfbWire.U32(init, 20);
        if (nameLength > RfbSession.MaxNameLength)
        {
            return RfbCloseReason.NameTooLong;
        }

        _width = RfbWire.U16(init, 0);
        _height = RfbWire.U16(init, 2);
        Session.BytesPerPixel = bytesPerPixel;
        Session.ServerInitSeen = true;
        Emit(output, init);
        ForwardPayload(nameLength);
        _state = State.Message;
        return RfbCloseReason.None;
    }

    private RfbCloseReason Message(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        var type = MessageType(input);
        var size = type switch
        {
            0 => 4, // FramebufferUpdate: type, padding, rectangle count; the rectangles follow
            1 => 6, // SetColourMapEntries: type, padding, first colour, count; 6 bytes per colour follow
            2 => 1, // Bell
            3 => 8, // ServerCutText: type, 3 padding, length; the text follows
            _ => 0,
        };
        if (size == 0)
        {
            return RfbCloseReason.UnknownMessageType;
        }

        if (!TryTake(ref input, size, out var message))
        {
            return RfbCloseReason.None;
        }

        switch (type)
        {
            case 0:
                // Note: the pixel format is fixed once the client has asked for an update, so every rectangle
                // is framed in the format it was sent in; an update nobody asked for could predate it.
                if (!Session.UpdateRequested)
                {
                    return RfbCloseReason.UnsolicitedUpdate;
                }

                _rectanglesLeft = RfbWire.U16(message, 2);
                _untilLastRect = _rectanglesLeft == ushort.MaxValue && Session.LastRectKept;
                if (_untilLastRect || _rectanglesLeft > 0)
                {
                    _state = State.Rectangle;
                }

                Emit(output, message);
                return RfbCloseReason.None;
            case 1:
                Emit(output, message);
                ForwardPayload(RfbWire.U16(message, 4) * 6L);
                return RfbCloseReason.None;
            case 2:
                Emit(output, message);
                return RfbCloseReason.None;
            default:
                var reason = CutTextHeader(message, output, out var flagsFollow);
                if (flagsFollow)
                {
                    _state = State.CutTextFlags;
                }

                return reason;
        }
    }

    private RfbCloseReason Rectangle(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        // x, y, width, height, encoding type
        if (!TryTake(ref input, 12, out var header))
        {
            return RfbCloseReason.None;
        }

        var x = RfbWire.U16(header, 0);
        var y = RfbWire.U16(header, 2);
        var width = RfbWire.U16(header, 4);
        var height = RfbWire.U16(header, 6);
        var encoding = RfbWire.S32(header, 8);
        var bytesPerPixel = Session.BytesPerPixel;
        long payload;
        switch (encoding)
        {
            case RfbWire.EncodingRaw:
            case RfbWire.EncodingCopyRect:
                if (x + width > _width || y + height > _height)
                {
                    return RfbCloseReason.RectangleOutOfBounds;
                }

                payload = encoding == RfbWire.EncodingRaw ? (long)width * height * bytesPerPixel : 4;
                break;
            case RfbWire.EncodingCursor:
                // The cursor's pixels, then a bit mask with rows padded to whole bytes.
                payload = ((long)width * height * bytesPerPixel) + ((long)(width + 7) / 8 * height);
                break;
            case RfbWire.EncodingDesktopSize:
                _width = width;
                _height = height;
                payload = 0;
                break;
            case RfbWire.EncodingLastRect:
                _untilLastRect = false;
                _rectanglesLeft = 1;
                payload = 0;
                break;
            default:
                return RfbCloseReason.UnframeableEncoding;
        }

        Emit(output, header);
        ForwardPayload(payload);
        if (!_untilLastRect && --_rectanglesLeft == 0)
        {
            _state = State.Message;
        }

        return RfbCloseReason.None;
    }
}
