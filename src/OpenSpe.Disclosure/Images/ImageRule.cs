using System.Text;
using OpenSpe.Disclosure.Files;
using OpenSpe.Disclosure.Rules;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Images;

/// <summary>
/// An image's own content, whatever it is described as: its structure is walked to the end marker; bytes after the end,
/// chunk or segment types the format does not define and pixel data longer than the picture are review; every byte that
/// is not pixel data (text chunks, comments, Exif, XMP, colour profiles, the bytes after the end) is scanned for direct
/// identifiers and for tables. Note: this exists because a viewer, and the checkers' preview, shows only the pixels.
/// </summary>
internal static class ImageRule
{
    /// <summary>
    /// Metadata a figure may carry: one JPEG APP segment's worth (64 KiB). Plotting libraries write a few hundred bytes
    /// (software, date, a colour profile); more is a place to carry data that no preview shows.
    /// </summary>
    internal const int MaxMetadataBytes = 64 * 1024;

    public static IReadOnlyList<Finding> Check(ContentKind kind, byte[] bytes)
    {
        var reading = kind switch
        {
            ContentKind.Png => PngReader.Read(bytes),
            ContentKind.Jpeg => JpegReader.Read(bytes),
            ContentKind.Gif => GifReader.Read(bytes),
            ContentKind.Webp => WebpReader.Read(bytes),
            _ => null,
        };
        if (reading is null)
        {
            return [];
        }

        var findings = new List<Finding>(reading.Problems);
        var parts = reading.Segments.Select(s => (Where: s.Where, s.Bytes)).ToList();
        if (reading.End is { } end && end < bytes.Length)
        {
            var trailing = bytes[end..];
            var where = $"after the {reading.Format}'s {reading.EndMarker}";
            var table = TableShape.Find(Encoding.Latin1.GetString(trailing));

            // Note: appending data after the end marker is the classic way to smuggle a file inside a valid image.
            findings.Add(Findings.Review("image.trailing-data",
                $"{trailing.Length} byte(s) follow the {reading.Format}'s {reading.EndMarker} at byte {end}: an image ends there, so no viewer or preview shows them"
                + (table is null ? "." : $"; they hold {table.Form}."), [$"bytes {end}–{bytes.Length - 1}"]));
            parts.Add((where, trailing));
        }

        var metadata = reading.Segments.Sum(s => (long)s.Bytes.Length);
        if (metadata > MaxMetadataBytes)
        {
            findings.Add(Findings.Review("image.metadata-size",
                $"the {reading.Format} carries {metadata} bytes besides its pixels (text, comments, Exif, XMP, colour profile), more than the {MaxMetadataBytes} a figure needs; no preview shows them.", []));
        }

        foreach (var segment in reading.Segments)
        {
            if (TableShape.Find(Encoding.Latin1.GetString(segment.Bytes)) is { } table)
            {
                findings.Add(Findings.Review("image.table", $"the image's {segment.Where} holds {table.Form}, which no preview shows.", [segment.Where]));
            }
        }

        findings.AddRange(IdentifierRule.Check(parts.Select(p => ((string?)p.Where, p.Bytes))));
        return findings;
    }
}
