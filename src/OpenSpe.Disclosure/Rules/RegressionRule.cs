using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Rules;

/// <summary>
/// Regressions: residual degrees of freedom (observations − parameters) at least the policy's minimum, and content the
/// size of a coefficient table.
/// </summary>
internal static class RegressionRule
{
    /// <summary>Rows a coefficient table may have beyond one per parameter: intercept, header lines and fit statistics (n, R², AIC, BIC, F, log-likelihood, deviance).</summary>
    internal const int ExtraRows = 10;

    /// <summary>
    /// Rows no regression output has more of, whatever the description says: the parameters are the researcher's word, so
    /// a description with 3,000 parameters must not make a 2,163-row file a coefficient table.
    /// </summary>
    internal const int MaxRows = 100;

    public static IEnumerable<Finding> Check(RegressionDescription description, DisclosurePolicy policy)
    {
        var df = description.Observations - description.Parameters;
        if (df < policy.MinResidualDf)
        {
            yield return Findings.Fail("regression.residual-df",
                $"{df} residual degrees of freedom ({description.Observations} observations − {description.Parameters} parameters), below the minimum of {policy.MinResidualDf}.", []);
        }
    }

    /// <summary>
    /// Note: the rule above judges only the numbers in the description, never the file; a regression's results are a small
    /// table of coefficients, so a table (or a JSON list) with more rows than the parameters allow is review: it has the
    /// shape of residuals, predictions or the data.
    /// </summary>
    public static IEnumerable<Finding> CheckShape(string text, RegressionDescription description)
    {
        var allowed = (int)Math.Min(description.Parameters + ExtraRows, MaxRows);
        var table = TableShape.Find(text);
        var largest = TableShape.LargestJsonList(text) ?? 0;
        if (table is not null && table.Rows > allowed)
        {
            yield return Findings.Review("regression.rows",
                $"its content is {table.Form}, more than a regression's results hold (at most the {description.Parameters} parameters described + {ExtraRows}, never more than {MaxRows}); describe row-level data as records and tables as tables so their cells are checked.");
        }
        else if (largest > allowed)
        {
            yield return Findings.Review("regression.rows",
                $"its content is JSON with a list of {largest} entries, more than a regression's results hold (at most the {description.Parameters} parameters described + {ExtraRows}, never more than {MaxRows}); residuals, predictions and data are row-level.");
        }
    }
}
