using System.Buffers.Binary;

namespace OpenSpe.Core.Desktop;

/// <summary>The RFB constants and field checks both directions share (RFC 6143 and the Extended Clipboard pseudo-encoding).</summary>
internal static class RfbWire
{
    public const int ProtocolVersionLength = 12;
    public const byte SecurityTypeNone = 1;

    public const int EncodingRaw = 0;
    public const int EncodingCopyRect = 1;
    public const int EncodingDesktopSize = -223;
    public const int EncodingLastRect = -224;
    public const int EncodingCursor = -239;
    public const int EncodingExtendedClipboard = unchecked((int)0xC0A1E5CE);

    // Extended Clipboard actions, in the top byte of the flags word that starts the payload.
    public const uint ActionCaps = 1u << 24;
    public const uint ActionRequest = 1u << 25;
    public const uint ActionPeek = 1u << 26;
    public const uint ActionNotify = 1u << 27;
    public const uint ActionProvide = 1u << 28;
    private const uint ActionMask = 0xFF000000;
    private const uint KnownActions = ActionCaps | ActionRequest | ActionPeek | ActionNotify | ActionProvide;

    /// <summary>Only 3.8: its security handshake is the one the filters follow (3.3 and 3.7 differ in it).</summary>
    public static bool IsSupportedVersion(ReadOnlySpan<byte> version) => version.SequenceEqual("RFB 003.008\n"u8);

    /// <summary>
    /// Bytes per pixel of a 16-byte PIXEL_FORMAT, or 0 when it is not one RFC 6143 allows
    /// (bits-per-pixel 8, 16 or 32; depth from 1 to bits-per-pixel).
    /// </summary>
    public static int BytesPerPixel(ReadOnlySpan<byte> pixelFormat)
    {
        var bits = pixelFormat[0];
        var depth = pixelFormat[1];
        return bits is 8 or 16 or 32 && depth >= 1 && depth <= bits ? bits / 8 : 0;
    }

    /// <summary>
    /// Note: the gateway lets the client ask only for encodings whose length it can compute from their
    /// headers, because a rectangle it cannot frame would leave it unable to find the next message, and
    /// every other server message would then pass unchecked (among them ServerCutText).
    /// </summary>
    public static bool IsFramed(int encoding) => encoding is EncodingRaw or EncodingCopyRect or EncodingDesktopSize or EncodingLastRect or EncodingCursor;

    /// <summary>
    /// Which clipboard directions an Extended Clipboard message needs, relative to its own, or
    /// <see cref="ClipboardNeeds.Malformed"/> when its flags name no action or an unknown one. Offering data
    /// (notify, provide) needs the message's own direction; asking for it (request, peek) needs the opposite
    /// one; caps needs only the pseudo-encoding, which is kept when either direction is open.
    /// </summary>
    public static ClipboardNeeds RequiredDirections(uint flags)
    {
        var actions = flags & ActionMask;
        if (actions == 0 || (actions & ~KnownActions) != 0)
        {
            return ClipboardNeeds.Malformed;
        }

        var offers = (actions & (ActionNotify | ActionProvide)) != 0 ? ClipboardNeeds.Own : ClipboardNeeds.None;
        var asks = (actions & (ActionRequest | ActionPeek)) != 0 ? ClipboardNeeds.Opposite : ClipboardNeeds.None;
        return offers | asks;
    }

    public static ushort U16(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt16BigEndian(bytes[offset..]);

    public static int S32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadInt32BigEndian(bytes[offset..]);

    public static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
}

/// <summary>The clipboard directions an Extended Clipboard message needs open, relative to its own direction.</summary>
[Flags]
internal enum ClipboardNeeds
{
    None = 0,
    Own = 1,
    Opposite = 2,
    Malformed = 4,
}
