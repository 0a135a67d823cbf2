using OpenSpe.Disclosure.Rules;

namespace OpenSpe.Disclosure.Images;

/// <summary>Bytes of an image that are not its pixels (metadata, text, colour profiles), named by where they are.</summary>
/// <param name="Where">For example <c>PNG tEXt chunk at byte 33</c>.</param>
/// <param name="Bytes">The segment's bytes, inflated when they were compressed.</param>
/// <param name="Text">Whether the format says these bytes are text (comments, text chunks), as against binary metadata.</param>
internal sealed record ImageSegment(string Where, byte[] Bytes, bool Text);

/// <summary>
/// What walking an image from its signature to its end marker found: the segments that are not pixel data, where the image
/// ends, and what did not fit the format. Note: a viewer (and the checkers' preview) shows only the pixels, so everything
/// else an image carries must be read here or sent to a person.
/// </summary>
internal sealed class ImageReading(string format, string endMarker)
{
    /// <summary>Inflated metadata beyond this, over all of an image's compressed chunks, is not read (a compressed chunk can inflate a thousandfold).</summary>
    internal const int MaxInflatedBytes = 16 << 20;

    /// <summary>Bytes the image's compressed chunks may still inflate to: <see cref="MaxInflatedBytes"/> for all of them together.</summary>
    public int InflateBudget { get; set; } = MaxInflatedBytes;

    /// <summary>The format's name, for example <c>PNG</c>.</summary>
    public string Format { get; } = format;

    /// <summary>The end marker's name, for example <c>IEND chunk</c>.</summary>
    public string EndMarker { get; } = endMarker;

    /// <summary>The non-pixel segments, in file order.</summary>
    public List<ImageSegment> Segments { get; } = [];

    /// <summary>The offset just after the end marker; null when the walk did not reach one.</summary>
    public int? End { get; set; }

    /// <summary>Review findings for what did not fit the format.</summary>
    public List<Finding> Problems { get; } = [];

    /// <summary>Records that the structure does not parse from <paramref name="offset"/> on.</summary>
    public void Malformed(string what, long offset) =>
        Problems.Add(Findings.Review("image.malformed",
            $"the {Format}'s structure does not parse ({what}), so the check cannot tell its picture from data hidden in it.", [$"byte {offset}"]));

    /// <summary>Records a segment of a type the format does not define, which no viewer shows.</summary>
    public void Unknown(string what, long offset) =>
        Problems.Add(Findings.Review("image.unknown-segment",
            $"the {Format} holds a {what} that no image viewer shows; a person must look at its bytes.", [$"byte {offset}"]));
}
