using OpenSpe.Disclosure.Files;

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
    /// <remarks>
    /// Note: the disclosure checks' own sniffer, so the automatic file-type check and the preview agree on what an image
    /// is; only its four image kinds may be handed to a browser.
    /// </remarks>
    public static string? Detect(ReadOnlySpan<byte> bytes) => ContentSniffer.Detect(bytes[..Math.Min(bytes.Length, SignatureBytes)]) switch
    {
        ContentKind.Png => "image/png",
        ContentKind.Jpeg => "image/jpeg",
        ContentKind.Gif => "image/gif",
        ContentKind.Webp => "image/webp",
        _ => null,
    };

    /// <summary>Enough of a file for every image signature (WebP's is the longest at 12 bytes).</summary>
    private const int SignatureBytes = 16;
}
