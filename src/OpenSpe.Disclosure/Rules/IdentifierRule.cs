using OpenSpe.Disclosure.Identifiers;

namespace OpenSpe.Disclosure.Rules;

/// <summary>Direct identifiers in text, or in the parts of a file that hold text (an image's metadata and trailing bytes).</summary>
internal static class IdentifierRule
{
    /// <summary>
    /// One finding per identifier kind over every part; a part named by <c>Where</c> prefixes its positions with it
    /// (<c>PNG tEXt chunk at byte 33, line 1, column 5</c>), a part without one is the whole file.
    /// </summary>
    public static IEnumerable<Finding> Check(IEnumerable<(string? Where, byte[] Bytes)> parts) =>
        parts
            .SelectMany(p => IdentifierScanner.Scan(p.Bytes).Select(m => (m.Kind, Position: p.Where is null ? Findings.Text(m.Line, m.Column) : $"{p.Where}, {Findings.Text(m.Line, m.Column)}")))
            .GroupBy(m => m.Kind)
            .Select(g =>
            {
                var positions = g.Select(m => m.Position).ToList();
                var reason = $"{positions.Count} × {g.Key.Description}.";

                // Note: only the position is reported, never the value: the report itself leaves the SPE.
                return g.Key == IdentifierKind.DanishCprUnchecked ? Findings.Review(g.Key.Rule, reason, positions) : Findings.Fail(g.Key.Rule, reason, positions);
            });
}
