namespace OpenSpe.Core.Desktop;

/// <summary>Why a filter stopped the session; the gateway closes both sides and audits the reason.</summary>
public enum RfbCloseReason
{
    /// <summary>The session goes on.</summary>
    None,

    /// <summary>A ProtocolVersion other than <c>RFB 003.008</c>.</summary>
    UnsupportedVersion,

    /// <summary>The server offered no security type (it refused the connection) or answered the security handshake with a failure.</summary>
    ServerRefused,

    /// <summary>The server did not offer security type None; the gateway has already authenticated the person and lets no other type through.</summary>
    NoneSecurityNotOffered,

    /// <summary>The client picked a security type other than None.</summary>
    SecurityTypeNotNone,

    /// <summary>A message came before the handshake step it depends on (for example a client message before ServerInit).</summary>
    OutOfOrder,

    /// <summary>A message type the gateway does not frame.</summary>
    UnknownMessageType,

    /// <summary>A field holds a value the protocol does not allow (pixel format, extended clipboard flags, lengths).</summary>
    MalformedMessage,

    /// <summary>The desktop name in ServerInit is longer than <see cref="RfbSession.MaxNameLength"/>.</summary>
    NameTooLong,

    /// <summary>SetEncodings lists more than <see cref="RfbSession.MaxEncodings"/> encodings.</summary>
    TooManyEncodings,

    /// <summary>Cut text longer than the policy's maximum, either way.</summary>
    CutTextTooLong,

    /// <summary>SetPixelFormat after the first FramebufferUpdateRequest: updates in flight could no longer be framed.</summary>
    PixelFormatChangeAfterUpdateRequest,

    /// <summary>A FramebufferUpdate before the client asked for one.</summary>
    UnsolicitedUpdate,

    /// <summary>A rectangle in an encoding the gateway cannot frame (it never lets the client ask for one).</summary>
    UnframeableEncoding,

    /// <summary>A rectangle outside the framebuffer.</summary>
    RectangleOutOfBounds,
}
