using System.Globalization;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Rules;

/// <summary>
/// Magnitude tables, judged from the contributions behind each cell: the minimum number of contributors, NK dominance
/// ("at least": the top n holding k of the total or more fail) and the p % rule. Negative or missing contributions send the
/// table to review, because dominance and p % assume non-negative values.
/// </summary>
internal static class MagnitudeRule
{
    private const char KeySeparator = '\u001F';

    public static IEnumerable<Finding> Check(CsvTable table, CsvTable contributions, MagnitudeDescription description, DisclosurePolicy policy)
    {
        var missing = description.CellColumns.Where(c => table.Column(c) < 0).Select(c => $"column {c}")
            .Concat(description.CellColumns.Append(description.ValueColumn).Where(c => contributions.Column(c) < 0).Select(c => $"contributions column {c}"))
            .ToList();
        if (missing.Count > 0)
        {
            return [Findings.Review("description.columns", "the description names columns the table or its contributions file does not have.", missing)];
        }

        var cells = new Dictionary<string, List<decimal>>(StringComparer.Ordinal);
        var unusable = new List<string>();
        var negative = new HashSet<string>(StringComparer.Ordinal);
        var valueColumn = contributions.Column(description.ValueColumn);
        for (var r = 0; r < contributions.Rows.Count; r++)
        {
            var row = contributions.Rows[r];
            var key = Key(row, description.CellColumns.Select(contributions.Column));
            var text = row[valueColumn].Trim();
            if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                unusable.Add($"contributions row {r + 1}");
                continue;
            }

            if (value < 0)
            {
                negative.Add(key);
                unusable.Add($"contributions row {r + 1}");
            }

            if (!cells.TryGetValue(key, out var list))
            {
                cells[key] = list = [];
            }

            list.Add(value);
        }

        var few = new List<string>();
        var dominated = new List<string>();
        var pPercent = new List<string>();
        var uncovered = new List<string>();
        var k = (decimal)policy.DominanceK;
        var p = (decimal)policy.PPercent;
        for (var r = 0; r < table.Rows.Count; r++)
        {
            var key = Key(table.Rows[r], description.CellColumns.Select(table.Column));
            var position = Findings.Row(r + 1);
            if (!cells.TryGetValue(key, out var values))
            {
                uncovered.Add(position);
                continue;
            }

            if (values.Count < policy.Threshold)
            {
                few.Add(position);
            }

            if (negative.Contains(key))
            {
                continue;
            }

            values.Sort((a, b) => b.CompareTo(a));
            var total = values.Sum();
            var top = values.Take(policy.DominanceN).Sum();
            if (total > 0 && top >= k * total)
            {
                dominated.Add(position);
            }

            var x1 = values[0];
            var x2 = values.Count > 1 ? values[1] : 0m;
            if (x1 > 0 && (total - x1 - x2) / x1 < p)
            {
                pPercent.Add(position);
            }
        }

        var findings = new List<Finding>();
        if (few.Count > 0)
        {
            findings.Add(Findings.Fail("magnitude.contributors", $"{few.Count} cell(s) with fewer than {policy.Threshold} contributors.", few));
        }

        if (dominated.Count > 0)
        {
            findings.Add(Findings.Fail("magnitude.dominance",
                $"{dominated.Count} cell(s) where the top {policy.DominanceN} contributor(s) hold at least {policy.DominanceK.ToString(CultureInfo.InvariantCulture)} of the total.", dominated));
        }

        if (pPercent.Count > 0)
        {
            findings.Add(Findings.Fail("magnitude.p-percent",
                $"{pPercent.Count} cell(s) where the rest after the two largest contributions is less than {policy.PPercent.ToString(CultureInfo.InvariantCulture)} of the largest.", pPercent));
        }

        if (unusable.Count > 0)
        {
            findings.Add(Findings.Review("magnitude.negative-or-missing", $"{unusable.Count} contribution(s) are negative, missing or not numbers.", unusable));
        }

        if (uncovered.Count > 0)
        {
            findings.Add(Findings.Review("description.contributions", $"{uncovered.Count} cell(s) of the table have no contributions.", uncovered));
        }

        return findings;
    }

    private static string Key(string[] row, IEnumerable<int> columns) => string.Join(KeySeparator, columns.Select(c => row[c].Trim()));
}
