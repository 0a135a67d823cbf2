namespace OpenSpe.Disclosure.Images;

/// <summary>
/// Walks a GIF's blocks from the header to the trailer (0x3B): extensions (comment, plain text, application, graphic
/// control) are kept to be read; image data sub-blocks are pixels; an extension label GIF89a does not define is for a person.
/// </summary>
internal static class GifReader
{
    public static ImageReading Read(byte[] gif)
    {
        var reading = new ImageReading("GIF", "trailer (0x3B)");
        if (gif.Length < 13)
        {
            reading.Malformed("the header is cut short", 0);
            return reading;
        }

        var position = 13 + ColourTable(gif[10]);
        while (true)
        {
            if (position >= gif.Length)
            {
                reading.Malformed("it ends without a trailer", position);
                return reading;
            }

            var at = position;
            switch (gif[position])
            {
                case 0x3B:
                    reading.End = position + 1;
                    return reading;
                case 0x21 when position + 1 < gif.Length:
                    var label = gif[position + 1];
                    var data = new MemoryStream();
                    position = SubBlocks(gif, position + 2, data);
                    if (position < 0)
                    {
                        reading.Malformed($"the extension at byte {at} is cut short", at);
                        return reading;
                    }

                    if (label is not (0xF9 or 0xFE or 0x01 or 0xFF))
                    {
                        reading.Unknown($"extension with the label 0x{label:X2}", at);
                    }

                    reading.Segments.Add(new ImageSegment($"GIF {Name(label)} at byte {at}", data.ToArray(), label is 0xFE or 0x01));
                    break;
                case 0x2C when position + 10 < gif.Length:
                    position += 10 + ColourTable(gif[position + 9]) + 1;
                    position = SubBlocks(gif, position, null);
                    if (position < 0)
                    {
                        reading.Malformed($"the image at byte {at} is cut short", at);
                        return reading;
                    }

                    break;
                default:
                    reading.Malformed($"byte {at} starts no block", at);
                    return reading;
            }
        }
    }

    private static int ColourTable(byte flags) => (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0;

    /// <summary>Reads sub-blocks to the zero-length terminator; the offset after it, or -1 when the file ends first.</summary>
    private static int SubBlocks(byte[] gif, int position, MemoryStream? data)
    {
        while (position < gif.Length)
        {
            var size = gif[position];
            if (size == 0)
            {
                return position + 1;
            }

            if (position + 1 + size > gif.Length)
            {
                return -1;
            }

            data?.Write(gif, position + 1, size);
            position += 1 + size;
        }

        return -1;
    }

    private static string Name(byte label) => label switch
    {
        0xFE => "comment extension",
        0x01 => "plain text extension",
        0xFF => "application extension",
        0xF9 => "graphic control extension",
        _ => "extension",
    };
}
