using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Glm;

/// <summary>
/// DataSHIELD's GLM disclosure traps, checked at a node before anything is computed: a saturated model (more parameters
/// than <see cref="NodePolicy.GlmMaxParameterShare"/> of the rows), and any binary variable (the response or any column of
/// the model matrix, so 0/1 covariates and each factor level's indicator) whose smaller category has fewer than
/// <see cref="NodePolicy.GlmMinCategoryCount"/> rows, and any level of a factor (the reference level too) with fewer rows.
/// </summary>
/// <remarks>
/// Note: each column is judged on its own values and gets its own flag, because dsBase 6.3.3 set the flags with a loop
/// index left over from a finished loop, so only the last column decided and a small category elsewhere passed.
/// </remarks>
internal static class GlmDisclosureTraps
{
    /// <summary>Every trap that fires, in the order checked; empty when the node may answer.</summary>
    public static IReadOnlyList<string> Check(DesignMatrix design, NodePolicy policy)
    {
        var reasons = new List<string>();
        if (design.P > policy.GlmMaxParameterShare * design.NValid)
        {
            reasons.Add($"the model has too many parameters for the rows at this node (more than {policy.GlmMaxParameterShare.ToString(System.Globalization.CultureInfo.InvariantCulture)} of them): simplify the model");
        }

        if (HasSmallCategory(design.Y, 0, 1, design.NValid, policy.GlmMinCategoryCount))
        {
            reasons.Add($"the response is binary with a category of fewer than {policy.GlmMinCategoryCount} rows");
        }

        for (var j = 0; j < design.P; j++)
        {
            if (HasSmallCategory(design.X, j, design.P, design.NValid, policy.GlmMinCategoryCount))
            {
                reasons.Add($"column '{design.ColumnNames[j]}' is binary with a category of fewer than {policy.GlmMinCategoryCount} rows");
            }
        }

        // Note: a factor's reference level has no column, yet the score of the intercept minus those of the other levels
        // is the sum over its rows: one person at the reference level would be released exactly. Every level counts.
        foreach (var level in design.FactorLevelCounts.Where(l => l.Count > 0 && l.Count < policy.GlmMinCategoryCount))
        {
            reasons.Add($"level '{level.Level}' of {level.Factor} has fewer than {policy.GlmMinCategoryCount} rows");
        }

        return reasons;
    }

    /// <summary>Whether the strided values take exactly two values, one of them on fewer than <paramref name="minimum"/> rows.</summary>
    private static bool HasSmallCategory(double[] values, int start, int stride, int count, int minimum)
    {
        double first = 0, second = 0;
        int firstCount = 0, secondCount = 0;
        for (var i = 0; i < count; i++)
        {
            var v = values[start + (i * stride)];
            if (firstCount == 0 || v.Equals(first))
            {
                first = v;
                firstCount++;
            }
            else if (secondCount == 0 || v.Equals(second))
            {
                second = v;
                secondCount++;
            }
            else
            {
                return false; // a third value: not binary
            }
        }

        return secondCount > 0 && Math.Min(firstCount, secondCount) < minimum;
    }
}
