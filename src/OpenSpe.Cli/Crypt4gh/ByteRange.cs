using System.Globalization;

namespace OpenSpe.Cli.Crypt4gh;

/// <summary>A <c>--range START-END</c> of plaintext bytes: START included, END excluded (END absent: to the end).</summary>
internal readonly record struct ByteRange(long Start, long? End)
{
    public const string Syntax = "START-END (START included, END excluded), START- or START";

    /// <summary>Parses <c>START-END</c>, <c>START-</c> or <c>START</c> (decimal byte offsets).</summary>
    public static bool TryParse(string text, out ByteRange range, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        range = default;
        error = string.Empty;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var startText = dash < 0 ? text : text[..dash];
        var endText = dash < 0 ? string.Empty : text[(dash + 1)..];
        if (!TryOffset(startText, out var start) || (endText.Length > 0 && !TryOffset(endText, out _)))
        {
            error = $"invalid --range '{text}': expected {Syntax}";
            return false;
        }

        long? end = null;
        if (endText.Length > 0)
        {
            _ = TryOffset(endText, out var parsedEnd);
            if (parsedEnd <= start)
            {
                error = $"invalid --range '{text}': END must be greater than START";
                return false;
            }

            end = parsedEnd;
        }

        range = new ByteRange(start, end);
        return true;
    }

    /// <summary>The data edit list that shows a reader only this range: skip START, keep END − START (or keep the rest).</summary>
    public IReadOnlyList<long> ToEditList() => End is { } end ? [Start, end - Start] : [Start];

    private static bool TryOffset(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
