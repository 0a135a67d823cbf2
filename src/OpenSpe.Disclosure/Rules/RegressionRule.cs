using OpenSpe.Disclosure.Descriptions;

namespace OpenSpe.Disclosure.Rules;

/// <summary>Regressions: residual degrees of freedom (observations − parameters) at least the policy's minimum.</summary>
internal static class RegressionRule
{
    public static IEnumerable<Finding> Check(RegressionDescription description, DisclosurePolicy policy)
    {
        var df = description.Observations - description.Parameters;
        if (df < policy.MinResidualDf)
        {
            yield return Findings.Fail("regression.residual-df",
                $"{df} residual degrees of freedom ({description.Observations} observations − {description.Parameters} parameters), below the minimum of {policy.MinResidualDf}.", []);
        }
    }
}
