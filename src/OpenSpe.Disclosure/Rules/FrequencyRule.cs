using System.Globalization;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Rules;

/// <summary>Frequency tables: every count cell at least the threshold; zeros only when the policy allows them.</summary>
internal static class FrequencyRule
{
    public static IEnumerable<Finding> Check(CsvTable table, FrequencyDescription description, DisclosurePolicy policy)
    {
        var missing = description.LabelColumns.Concat(description.CountColumns ?? []).Where(c => table.Column(c) < 0).ToList();
        if (missing.Count > 0)
        {
            yield return Findings.Review("description.columns", $"the description names {missing.Count} column(s) the file's header does not have.", missing.Select(c => $"column {c}").ToList());
            yield break;
        }

        var counts = description.CountColumns ?? [.. table.Header.Where(h => !description.LabelColumns.Contains(h, StringComparer.Ordinal))];
        if (counts.Count == 0)
        {
            yield return Findings.Review("description.columns", "the table has no count column besides its label columns.");
            yield break;
        }

        var small = new List<string>();
        var zeros = new List<string>();
        var notCounts = new List<string>();
        for (var r = 0; r < table.Rows.Count; r++)
        {
            foreach (var column in counts)
            {
                var text = table.Rows[r][table.Column(column)].Trim();
                var position = Findings.Cell(r + 1, column);
                if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    // Note: a count column with anything but a non-negative integer is not what the description says, so the
                    // table goes to a person rather than passing on the cells that did parse.
                    notCounts.Add(position);
                }
                else if (count == 0)
                {
                    if (!policy.ZerosAllowed)
                    {
                        zeros.Add(position);
                    }
                }
                else if (count < policy.Threshold)
                {
                    small.Add(position);
                }
            }
        }

        if (small.Count > 0)
        {
            yield return Findings.Fail("frequency.threshold", $"{small.Count} count cell(s) below the threshold of {policy.Threshold}.", small);
        }

        if (zeros.Count > 0)
        {
            yield return Findings.Fail("frequency.zero", $"{zeros.Count} zero cell(s); the policy does not allow zeros.", zeros);
        }

        if (notCounts.Count > 0)
        {
            yield return Findings.Review("description.counts", $"{notCounts.Count} cell(s) in count columns are not non-negative integers.", notCounts);
        }
    }
}
