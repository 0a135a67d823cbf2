namespace OpenSpe.Disclosure.Images;

/// <summary>
/// Walks a JPEG's marker segments from SOI to EOI, stepping over the entropy-coded data after each SOS: every segment but
/// the pixel data (APPn such as JFIF, Exif and XMP, COM comments, tables) is kept to be read.
/// </summary>
internal static class JpegReader
{
    public static ImageReading Read(byte[] jpeg)
    {
        var reading = new ImageReading("JPEG", "EOI marker");
        var position = 2;
        while (true)
        {
            if (position + 1 >= jpeg.Length || jpeg[position] != 0xFF)
            {
                reading.Malformed("it ends without an EOI marker, or a segment does not start with a marker", position);
                return reading;
            }

            // Fill bytes (0xFF) may precede a marker.
            while (position + 1 < jpeg.Length && jpeg[position + 1] == 0xFF)
            {
                position++;
            }

            if (position + 1 >= jpeg.Length)
            {
                reading.Malformed("it ends without an EOI marker", position);
                return reading;
            }

            var marker = jpeg[position + 1];
            var at = position;
            position += 2;
            if (marker == 0xD9)
            {
                reading.End = position;
                return reading;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }

            if (marker is 0x00 or 0xD8 || position + 2 > jpeg.Length)
            {
                reading.Malformed($"marker FF{marker:X2} at byte {at} is not a segment", at);
                return reading;
            }

            var length = (jpeg[position] << 8) | jpeg[position + 1];
            if (length < 2 || position + length > jpeg.Length)
            {
                reading.Malformed($"the segment at byte {at} is cut short", at);
                return reading;
            }

            var data = jpeg.AsSpan(position + 2, length - 2);
            reading.Segments.Add(new ImageSegment(Name(marker, at), data.ToArray(), marker == 0xFE));
            if (marker is (>= 0x02 and <= 0xBF) or 0xFF)
            {
                reading.Unknown($"segment with the reserved marker FF{marker:X2}", at);
            }

            position += length;
            if (marker == 0xDA)
            {
                position = AfterScan(jpeg, position);
            }
        }
    }

    /// <summary>The first marker after entropy-coded data: 0xFF followed by neither a stuffed 0x00 nor a restart marker.</summary>
    private static int AfterScan(byte[] jpeg, int position)
    {
        while (true)
        {
            var next = jpeg.AsSpan(position).IndexOf((byte)0xFF);
            if (next < 0 || position + next + 1 >= jpeg.Length)
            {
                return jpeg.Length;
            }

            position += next;
            var after = jpeg[position + 1];
            if (after is not (0x00 or (>= 0xD0 and <= 0xD7)))
            {
                return position;
            }

            position += 2;
        }
    }

    private static string Name(byte marker, int at) => marker switch
    {
        0xFE => $"JPEG comment (COM) at byte {at}",
        >= 0xE0 and <= 0xEF => $"JPEG APP{marker - 0xE0} segment at byte {at}",
        _ => $"JPEG segment FF{marker:X2} at byte {at}",
    };
}
