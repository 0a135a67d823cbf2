namespace OpenSpe.Federation.Omop;

/// <summary>
/// Suppresses small counts at the node, before they leave. Primary: every cell below the threshold. Secondary: when any
/// cell is suppressed, the smallest released cells are suppressed too until at least two cells are suppressed and their
/// sum reaches the threshold, so that a total asked for separately cannot give a suppressed cell back by subtraction.
/// </summary>
internal static class CountSuppression
{
    /// <summary>
    /// The cells with counts below <paramref name="threshold"/> (and their protectors) suppressed; zeros too unless
    /// <paramref name="zerosAllowed"/> (the permit's <c>zerosAllowed</c>).
    /// </summary>
    public static IReadOnlyList<CohortCell> Apply(IReadOnlyList<(string? Gender, string? AgeBand, long Count)> cells, int threshold, bool zerosAllowed = false)
    {
        var suppressed = cells.Select(c => c.Count < threshold && !(zerosAllowed && c.Count == 0)).ToArray();
        if (suppressed.Any(s => s))
        {
            // Note: smallest first, because each extra suppression costs the least information that way.
            var order = Enumerable.Range(0, cells.Count).Where(i => !suppressed[i]).OrderBy(i => cells[i].Count).ToList();
            while (order.Count > 0 && (suppressed.Count(s => s) < 2 || SuppressedSum(cells, suppressed) < threshold))
            {
                suppressed[order[0]] = true;
                order.RemoveAt(0);
            }
        }

        return [.. cells.Select((c, i) => new CohortCell
        {
            Gender = c.Gender,
            AgeBand = c.AgeBand,
            Count = suppressed[i] ? null : c.Count,
            Suppressed = suppressed[i],
        })];
    }

    private static long SuppressedSum(IReadOnlyList<(string? Gender, string? AgeBand, long Count)> cells, bool[] suppressed) =>
        cells.Where((_, i) => suppressed[i]).Sum(c => c.Count);
}
