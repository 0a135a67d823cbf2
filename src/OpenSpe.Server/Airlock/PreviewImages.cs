namespace OpenSpe.Server.Airlock;

/// <summary>
/// The images an output checker may see inline: PNG, JPEG, GIF and WebP, each known by its name's extension and by its first
/// bytes, which must agree. Never SVG (a document that can carry script) nor anything else.
/// </summary>
internal static class PreviewImages
{
    /// <summary>
    /// The largest image shown inline: 4 MiB. Note: the whole image is decrypted into memory, because its SHA-256 is checked
    /// against the frozen copy's before the first byte leaves; a figure for a paper is far smaller (a 300 dpi A4 plot is
    /// about 1 to 2 MiB as PNG), and a checker reads a larger file's automatic report instead.
    /// </summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The policy an image preview is served with: it loads nothing and runs nothing, even when opened on its own (a sandboxed
    /// document with no origin), and is never framed.
    /// </summary>
    public const string ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.Ordinal)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
    };

    /// <summary>The content types an image preview may have.</summary>
    public static IReadOnlyList<string> ContentTypes { get; } = ["image/png", "image/jpeg", "image/gif", "image/webp"];

    /// <summary>The content type <paramref name="name"/>'s extension claims, or null when it names no previewable image.</summary>
    public static string? ClaimedBy(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByExtension.GetValueOrDefault(Path.GetExtension(name).ToLowerInvariant());
    }

    /// <summary>The content type <paramref name="bytes"/> start with the signature of, or null when none.</summary>
    /// <remarks>Note: its own four signatures, not the disclosure checks' sniffer, because that one knows no WebP and this list is exactly what a browser may be handed.</remarks>
    public static string? Detect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "image/png";
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        // RIFF, the chunk's length (4 bytes), then the form type WEBP.
        return bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8) ? "image/webp" : null;
    }
}
