using System.Buffers;
using System.Buffers.Binary;

namespace OpenSpe.Core.Desktop;

/// <summary>
/// The browser-to-server direction: ProtocolVersion, the security type (None only), ClientInit, then
/// SetPixelFormat, SetEncodings, FramebufferUpdateRequest, KeyEvent, PointerEvent and ClientCutText.
/// Any other message type closes the session.
/// </summary>
public sealed class RfbClientFilter : RfbFilter
{
    private State _state;
    private int _encodingCount;

    internal RfbClientFilter(RfbSession session)
        : base(session, RfbDirection.ClientToServer, RfbSession.MaxEncodings * 4)
    {
    }

    private enum State
    {
        Version,
        SecurityType,
        ClientInit,
        Message,
        EncodingList,
        CutTextFlags,
    }

    private protected override RfbCloseReason Step(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        switch (_state)
        {
            case State.Version:
                if (!Session.ServerVersionSeen)
                {
                    return RfbCloseReason.OutOfOrder;
                }

                if (!TryTake(ref input, RfbWire.ProtocolVersionLength, out var version))
                {
                    return RfbCloseReason.None;
                }

                if (!RfbWire.IsSupportedVersion(version))
                {
                    return RfbCloseReason.UnsupportedVersion;
                }

                Session.ClientVersionSeen = true;
                Emit(output, version);
                _state = State.SecurityType;
                return RfbCloseReason.None;

            case State.SecurityType:
                if (!Session.SecurityOffered)
                {
                    return RfbCloseReason.OutOfOrder;
                }

                TryTake(ref input, 1, out var type);

                // Note: the gateway has authenticated the person and offers the client only None; any other
                // choice would hand the VNC server's own authentication to the browser.
                if (type[0] != RfbWire.SecurityTypeNone)
                {
                    return RfbCloseReason.SecurityTypeNotNone;
                }

                Session.SecurityChosen = true;
                Emit(output, type);
                _state = State.ClientInit;
                return RfbCloseReason.None;

            case State.ClientInit:
                if (!Session.SecurityAccepted)
                {
                    return RfbCloseReason.OutOfOrder;
                }

                TryTake(ref input, 1, out var shared);
                Session.ClientInitSent = true;
                Emit(output, shared);
                _state = State.Message;
                return RfbCloseReason.None;

            case State.EncodingList:
                if (TryTake(ref input, _encodingCount * 4, out var list))
                {
                    WriteKeptEncodings(list, output);
                    _state = State.Message;
                }

                return RfbCloseReason.None;

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

    private RfbCloseReason Message(ref ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        if (!Session.ServerInitSeen)
        {
            return RfbCloseReason.OutOfOrder;
        }

        var type = MessageType(input);
        var size = type switch
        {
            0 => 20, // SetPixelFormat: type, 3 padding, PIXEL_FORMAT
            2 => 4, // SetEncodings: type, padding, count; the list follows
            3 => 10, // FramebufferUpdateRequest
            4 => 8, // KeyEvent
            5 => 6, // PointerEvent
            6 => 8, // ClientCutText: type, 3 padding, length; the text follows
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
                // Note: updates already on their way in the old format could not be framed after a change, so
                // the format may change only before the client has asked for any (noVNC sets it once, first).
                if (Session.UpdateRequested)
                {
                    return RfbCloseReason.PixelFormatChangeAfterUpdateRequest;
                }

                var bytesPerPixel = RfbWire.BytesPerPixel(message[4..]);
                if (bytesPerPixel == 0)
                {
                    return RfbCloseReason.MalformedMessage;
                }

                Session.BytesPerPixel = bytesPerPixel;
                break;
            case 2:
                var count = RfbWire.U16(message, 2);
                if (count > RfbSession.MaxEncodings)
                {
                    return RfbCloseReason.TooManyEncodings;
                }

                if (count > 0)
                {
                    _encodingCount = count;
                    _state = State.EncodingList;
                    return RfbCloseReason.None;
                }

                break;
            case 3:
                Session.UpdateRequested = true;
                break;
            case 4:
                KeyEvent();
                break;
            case 5:
                PointerEvent();
                break;
            default:
                var reason = CutTextHeader(message, output, out var flagsFollow);
                if (flagsFollow)
                {
                    _state = State.CutTextFlags;
                }

                return reason;
        }

        Emit(output, message);
        return RfbCloseReason.None;
    }

    /// <summary>SetEncodings rewritten to the encodings the gateway can frame, with the count they make.</summary>
    private void WriteKeptEncodings(ReadOnlySpan<byte> list, IBufferWriter<byte> output)
    {
        var message = output.GetSpan(4 + list.Length);
        message[0] = 2;
        message[1] = 0;
        var kept = 0;
        for (var offset = 0; offset < list.Length; offset += 4)
        {
            var encoding = RfbWire.S32(list, offset);

            // Note: the Extended Clipboard pseudo-encoding is kept only when the permit opens a clipboard direction,
            // so that by default the server never offers the extended channel at all (TIR-25).
            var keep = RfbWire.IsFramed(encoding) || (encoding == RfbWire.EncodingExtendedClipboard && Session.Policy.AnyClipboard);
            if (!keep)
            {
                continue;
            }

            list.Slice(offset, 4).CopyTo(message[(4 + (kept * 4))..]);
            kept++;
            if (encoding == RfbWire.EncodingLastRect)
            {
                Session.LastRectKept = true;
            }
            else if (encoding == RfbWire.EncodingExtendedClipboard)
            {
                Session.ExtendedClipboardKept = true;
            }
        }

        BinaryPrimitives.WriteUInt16BigEndian(message[2..], (ushort)kept);
        output.Advance(4 + (kept * 4));
        Emitted(4 + (kept * 4));
    }
}
