using System.Buffers;
using System.Text.Unicode;

namespace OpenSpe.Disclosure.Files;

/// <summary>
/// Recognises a file's kind by its magic number, and text by being valid UTF-8 without NUL bytes. Note: text is judged
/// on the whole file, because a CSV with binary appended after a clean first block would otherwise pass as text and
/// carry anything out.
/// </summary>
public static class ContentSniffer
{
    /// <summary>Leading bytes every magic number fits in (a tar's "ustar" ends at offset 262).</summary>
    private const int MagicBytes = 262;

    private const int BlockBytes = 64 * 1024;

    /// <summary>The kind of <paramref name="content"/> (the whole file: text is judged on every byte).</summary>
    public static ContentKind Detect(ReadOnlySpan<byte> content) =>
        Magic(content) ?? (content.IndexOf((byte)0) < 0 && Utf8.IsValid(content) ? ContentKind.Text : ContentKind.UnknownBinary);

    /// <summary>
    /// As <see cref="Detect"/>, reading <paramref name="content"/> to its end in blocks, so a file of any size is judged
    /// on every byte while only one block is held in memory.
    /// </summary>
    public static async Task<ContentKind> DetectAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var buffer = ArrayPool<byte>.Shared.Rent(BlockBytes);
        var chars = ArrayPool<char>.Shared.Rent(BlockBytes);
        try
        {
            var length = await content.ReadAtLeastAsync(buffer.AsMemory(0, BlockBytes), MagicBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (Magic(buffer.AsSpan(0, length)) is { } kind)
            {
                return kind;
            }

            while (true)
            {
                var pending = TextBlock(buffer.AsSpan(0, length), chars);
                if (pending < 0)
                {
                    return ContentKind.UnknownBinary;
                }

                // Note: a character split across two reads is carried to the front and completed by the next one.
                buffer.AsSpan(length - pending, pending).CopyTo(buffer);
                var read = await content.ReadAsync(buffer.AsMemory(pending, BlockBytes - pending), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return pending == 0 ? ContentKind.Text : ContentKind.UnknownBinary;
                }

                length = pending + read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// Checks one block as text: -1 when it holds a NUL byte or malformed UTF-8, else how many bytes at its end begin a
    /// character the next block must complete.
    /// </summary>
    private static int TextBlock(ReadOnlySpan<byte> block, Span<char> chars)
    {
        if (block.IndexOf((byte)0) >= 0)
        {
            return -1;
        }

        while (true)
        {
            var status = Utf8.ToUtf16(block, chars, out var read, out _, replaceInvalidSequences: false, isFinalBlock: false);
            block = block[read..];
            switch (status)
            {
                case OperationStatus.Done:
                    return 0;
                case OperationStatus.NeedMoreData:
                    return block.Length;
                case OperationStatus.DestinationTooSmall:
                    continue;
                default:
                    return -1;
            }
        }
    }

    /// <summary>The kind a magic number names, or null for content that is text or unknown binary.</summary>
    private static ContentKind? Magic(ReadOnlySpan<byte> content)
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

        return null;
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
