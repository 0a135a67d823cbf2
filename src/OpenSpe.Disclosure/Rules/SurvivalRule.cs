using System.Globalization;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Rules;

/// <summary>
/// Survival tables: a drop in the number at risk between consecutive rows that is above zero and below the threshold
/// fails, because it tells how many people had the event (or were censored) in that interval.
/// </summary>
internal static class SurvivalRule
{
    public static IEnumerable<Finding> Check(CsvTable table, SurvivalDescription description, DisclosurePolicy policy)
    {
        var column = table.Column(description.AtRiskColumn);
        if (column < 0)
        {
            yield return Findings.Review("description.columns", "the file's header has no at-risk column of the described name.", [$"column {description.AtRiskColumn}"]);
            yield break;
        }

        var drops = new List<string>();
        var odd = new List<string>();
        long? previous = null;
        for (var r = 0; r < table.Rows.Count; r++)
        {
            if (!long.TryParse(table.Rows[r][column].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var atRisk))
            {
                odd.Add(Findings.Cell(r + 1, description.AtRiskColumn));
                previous = null;
                continue;
            }

            if (previous is { } before)
            {
                var drop = before - atRisk;
                if (drop < 0)
                {
                    // Note: the number at risk never grows in one survival curve; a rise means the file holds something else
                    // (several strata, unsorted rows), which the rule cannot judge.
                    odd.Add(Findings.Cell(r + 1, description.AtRiskColumn));
                }
                else if (drop > 0 && drop < policy.Threshold)
                {
                    drops.Add(Findings.Cell(r + 1, description.AtRiskColumn));
                }
            }

            previous = atRisk;
        }

        if (drops.Count > 0)
        {
            yield return Findings.Fail("survival.drop", $"{drops.Count} drop(s) in the number at risk above zero and below the threshold of {policy.Threshold}.", drops);
        }

        if (odd.Count > 0)
        {
            yield return Findings.Review("description.at-risk", $"{odd.Count} at-risk value(s) are not non-negative integers or rise from the row before.", odd);
        }
    }
}
