using System.Text.Unicode;

namespace OpenSpe.Disclosure.Files;

/// <summary>Recognises a file's kind by its magic number, and text by being valid UTF-8 without NUL bytes.</summary>
public static class ContentSniffer
{
    /// <summary>The kind of <paramref name="content"/> (the whole file: text is judged on every byte).</summary>
    public static ContentKind Detect(ReadOnlySpan<byte> content)
    {
        if (Starts(content, 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A))
        {
            return ContentKind.Png;
        }

        if (Starts(content, 0xFF, 0xD8, 0xFF))
        {
            return ContentKind.Jpeg;
        }

        if (content.StartsWith("GIF87a"u8) || content.StartsWith("GIF89a"u8))
        {
            return ContentKind.Gif;
        }

        // RIFF, the chunk's length (4 bytes), then the form type WEBP; other RIFF forms (WAV, AVI) stay unknown binary.
        if (content.Length >= 12 && content.StartsWith("RIFF"u8) && content[8..12].SequenceEqual("WEBP"u8))
        {
            return ContentKind.Webp;
        }

        if (content.StartsWith("%PDF-"u8))
        {
            return ContentKind.Pdf;
        }

        if (IsArchive(content))
        {
            return ContentKind.Archive;
        }

        if (IsExecutable(content))
        {
            return ContentKind.Executable;
        }

        // Note: text is judged on the whole file, because a CSV with binary appended after a clean first block would
        // otherwise pass as text and carry anything out.
        return content.IndexOf((byte)0) < 0 && Utf8.IsValid(content) ? ContentKind.Text : ContentKind.UnknownBinary;
    }

    private static bool IsArchive(ReadOnlySpan<byte> c) =>
        c.StartsWith("PK\x03\x04"u8) || c.StartsWith("PK\x05\x06"u8) || c.StartsWith("PK\x07\x08"u8)
        || Starts(c, 0x1F, 0x8B)
        || c.StartsWith("BZh"u8)
        || Starts(c, 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00)
        || Starts(c, 0x28, 0xB5, 0x2F, 0xFD)
        || Starts(c, 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C)
        || c.StartsWith("Rar!\x1A\x07"u8)
        || (c.Length >= 262 && c.Slice(257, 5).SequenceEqual("ustar"u8));

    private static bool IsExecutable(ReadOnlySpan<byte> c) =>
        Starts(c, 0x7F, 0x45, 0x4C, 0x46)
        || c.StartsWith("MZ"u8)
        || Starts(c, 0xFE, 0xED, 0xFA, 0xCE) || Starts(c, 0xFE, 0xED, 0xFA, 0xCF)
        || Starts(c, 0xCE, 0xFA, 0xED, 0xFE) || Starts(c, 0xCF, 0xFA, 0xED, 0xFE)
        || Starts(c, 0xCA, 0xFE, 0xBA, 0xBE);

    private static bool Starts(ReadOnlySpan<byte> content, params ReadOnlySpan<byte> magic) => content.StartsWith(magic);
}
