using System.Buffers.Binary;
using System.Text;

namespace OpenSpe.Disclosure.Images;

/// <summary>
/// Walks a WebP's RIFF chunks to the end the RIFF header gives: ICCP, EXIF and XMP metadata are kept to be read; bitstream
/// chunks are pixels; a chunk WebP does not define is for a person.
/// </summary>
internal static class WebpReader
{
    private static readonly HashSet<string> Pixels = new(StringComparer.Ordinal) { "VP8 ", "VP8L", "ALPH", "ANMF" };

    private static readonly HashSet<string> Defined = new(StringComparer.Ordinal) { "VP8 ", "VP8L", "ALPH", "ANMF", "VP8X", "ANIM", "ICCP", "EXIF", "XMP " };

    public static ImageReading Read(byte[] webp)
    {
        var reading = new ImageReading("WebP", "RIFF end");
        var end = 8L + BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(4));
        if (end > webp.Length)
        {
            reading.Malformed("the RIFF header gives a size beyond the file's end", 4);
            return reading;
        }

        var position = 12;
        while (position < end)
        {
            if (position + 8 > end)
            {
                reading.Malformed($"the chunk at byte {position} is cut short", position);
                return reading;
            }

            var type = Encoding.ASCII.GetString(webp, position, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(position + 4));
            if (position + 8L + size > end)
            {
                reading.Malformed($"the {type.Trim()} chunk at byte {position} runs past the RIFF end", position);
                return reading;
            }

            if (!Defined.Contains(type))
            {
                reading.Unknown($"chunk of type '{type}'", position);
            }

            if (!Pixels.Contains(type))
            {
                reading.Segments.Add(new ImageSegment($"WebP {type.Trim()} chunk at byte {position}", webp.AsSpan(position + 8, (int)size).ToArray(), false));
            }

            // Chunks are padded to an even size.
            position += 8 + (int)size + (int)(size & 1);
        }

        reading.End = (int)end;
        return reading;
    }
}
