using System.Buffers.Binary;
using System.Text;

namespace OpenSpe.Disclosure.Images;

/// <summary>
/// Walks a PNG's chunks (length, type, data, CRC) from the signature to IEND: text chunks (tEXt, and zTXt, iTXt and iCCP
/// inflated) and every other chunk but the pixel data are kept to be read; a chunk type PNG does not define is for a
/// person; the pixel data must inflate to exactly what the header's width, height and colour type need.
/// </summary>
internal static class PngReader
{
    /// <summary>Pixel data beyond this (inflated) is not counted: 8192 × 8192 RGBA, far above any figure.</summary>
    private const long MaxPixelBytes = 256L << 20;

    private static readonly HashSet<string> Defined = new(StringComparer.Ordinal)
    {
        // PNG third edition (W3C 2025): critical, ancillary and APNG chunks.
        "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "cHRM", "gAMA", "iCCP", "sBIT", "sRGB", "cICP", "mDCV", "mDCv", "cLLI", "cLLi",
        "tEXt", "zTXt", "iTXt", "bKGD", "hIST", "pHYs", "sPLT", "eXIf", "tIME", "acTL", "fcTL", "fdAT",
    };

    private static readonly (int X, int Y, int DX, int DY)[] Adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    public static ImageReading Read(byte[] png)
    {
        var reading = new ImageReading("PNG", "IEND chunk");
        var pixels = new MemoryStream();
        (int Width, int Height, int Bits, int Interlace)? header = null;
        var position = 8;
        while (true)
        {
            if (position + 12 > png.Length)
            {
                reading.Malformed("it ends without an IEND chunk", position);
                return reading;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
            var type = Encoding.ASCII.GetString(png, position + 4, 4);
            if (length > int.MaxValue || position + 12 + (long)length > png.Length || !type.All(char.IsAsciiLetter))
            {
                reading.Malformed($"a chunk at byte {position} is cut short or has no valid type", position);
                return reading;
            }

            var data = png.AsSpan(position + 8, (int)length);
            var where = $"PNG {type} chunk at byte {position}";
            switch (type)
            {
                case "IHDR" when length >= 13:
                    header = (BinaryPrimitives.ReadInt32BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data[4..]), BitsPerPixel(data[8], data[9]), data[12]);
                    break;
                case "IDAT":
                    pixels.Write(data);
                    break;
                case "fdAT":
                    // Note: animation frames are pixel data too; only the default image's size is known from IHDR.
                    break;
                case "IEND":
                    reading.End = position + 12;
                    CheckPixels(reading, header, pixels, position);
                    return reading;
                default:
                    if (!Defined.Contains(type))
                    {
                        reading.Unknown($"chunk of type '{type}'", position);
                    }

                    reading.Segments.Add(new ImageSegment(where, data.ToArray(), type is "tEXt" or "zTXt" or "iTXt"));
                    Inflated(reading, type, data, where, position);
                    break;
            }

            position += 12 + (int)length;
        }
    }

    /// <summary>The inflated text of zTXt, compressed iTXt and the iCCP profile, read like the rest.</summary>
    private static void Inflated(ImageReading reading, string type, ReadOnlySpan<byte> data, string where, int position)
    {
        var keywordEnd = data.IndexOf((byte)0);
        int start;
        switch (type)
        {
            case "zTXt" or "iCCP" when keywordEnd >= 0 && keywordEnd + 2 <= data.Length:
                start = keywordEnd + 2;
                break;
            case "iTXt" when keywordEnd >= 0 && keywordEnd + 3 <= data.Length && data[keywordEnd + 1] == 1:
                // keyword, 0, compression flag, method, language tag, 0, translated keyword, 0, text
                var language = data[(keywordEnd + 3)..].IndexOf((byte)0);
                var translated = language < 0 ? -1 : data[(keywordEnd + 4 + language)..].IndexOf((byte)0);
                if (translated < 0)
                {
                    reading.Malformed($"the iTXt chunk at byte {position} has no text field", position);
                    return;
                }

                start = keywordEnd + 5 + language + translated;
                break;
            default:
                return;
        }

        // Note: the limit is one budget for the whole image, not one per chunk, because every inflated chunk is kept for the
        // identifier scan: a thousand 16 KiB chunks that each inflate to the per-chunk limit held gigabytes from a 1 MB PNG.
        if (reading.InflateBudget <= 0)
        {
            if (reading.InflateBudget == 0)
            {
                // Reported once (the budget then goes below zero), so a million small chunks do not make a million findings.
                reading.Malformed($"the {type} chunk is not inflated: the image's compressed chunks already inflated to the {ImageReading.MaxInflatedBytes >> 20} MiB the check reads", position);
                reading.InflateBudget = -1;
            }

            return;
        }

        try
        {
            var (bytes, truncated) = Inflater.Inflate(data[start..].ToArray(), reading.InflateBudget);
            reading.InflateBudget -= bytes.Length;
            reading.Segments.Add(new ImageSegment(where + " (inflated)", bytes, type != "iCCP"));
            if (truncated)
            {
                reading.Malformed($"the {type} chunk inflates beyond the {ImageReading.MaxInflatedBytes >> 20} MiB the check reads", position);
            }
        }
        catch (InvalidDataException)
        {
            reading.Malformed($"the {type} chunk's compressed data does not inflate", position);
        }
    }

    /// <summary>
    /// Note: a decoder stops at the last row the header names, so rows beyond it (or a longer last row) are data no viewer
    /// shows; the pixel data must inflate to exactly the size the header implies.
    /// </summary>
    private static void CheckPixels(ImageReading reading, (int Width, int Height, int Bits, int Interlace)? header, MemoryStream pixels, int iend)
    {
        if (header is not { Width: > 0, Height: > 0, Bits: > 0 } h)
        {
            reading.Malformed("no valid IHDR chunk", 8);
            return;
        }

        var expected = h.Interlace == 0
            ? Scanlines(h.Width, h.Height, h.Bits)
            : Adam7.Sum(p => Scanlines((h.Width - p.X + p.DX - 1) / p.DX, (h.Height - p.Y + p.DY - 1) / p.DY, h.Bits));
        if (expected > MaxPixelBytes)
        {
            reading.Problems.Add(Rules.Findings.Review("image.too-large",
                $"the PNG's pixels ({h.Width} × {h.Height}) are beyond the {MaxPixelBytes >> 20} MiB the check inflates; a person must look at it."));
            return;
        }

        pixels.Position = 0;
        long actual;
        try
        {
            actual = Inflater.Count(pixels, expected);
        }
        catch (InvalidDataException)
        {
            reading.Malformed("the pixel data (IDAT) does not inflate", iend);
            return;
        }

        if (actual > expected)
        {
            reading.Problems.Add(Rules.Findings.Review("image.excess-pixel-data",
                $"the PNG's pixel data inflates to more than the {expected} bytes its {h.Width} × {h.Height} image needs; the rest is data no viewer shows."));
        }
        else if (actual < expected)
        {
            reading.Malformed($"the pixel data inflates to {actual} of the {expected} bytes the image needs", iend);
        }
    }

    private static long Scanlines(long width, long height, int bits) =>
        width <= 0 || height <= 0 ? 0 : height * (1 + ((width * bits) + 7) / 8);

    /// <summary>Bits per pixel for a colour type and bit depth the PNG specification allows, else 0.</summary>
    private static int BitsPerPixel(byte depth, byte colourType) => (colourType, depth) switch
    {
        (0, 1 or 2 or 4 or 8 or 16) => depth,
        (2, 8 or 16) => 3 * depth,
        (3, 1 or 2 or 4 or 8) => depth,
        (4, 8 or 16) => 2 * depth,
        (6, 8 or 16) => 4 * depth,
        _ => 0,
    };
}
