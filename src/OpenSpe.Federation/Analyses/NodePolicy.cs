using OpenSpe.Disclosure;

namespace OpenSpe.Federation.Analyses;

/// <summary>
/// The disclosure settings a node applies to every federated analysis: the node's own, never the requester's (a request
/// cannot loosen them). GLM defaults are DataSHIELD's (<c>nfilter.tab</c> 3, <c>nfilter.glm</c> 0.33); count suppression
/// uses the permit's airlock policy threshold.
/// </summary>
public sealed record NodePolicy
{
    /// <summary>The default policy.</summary>
    public static NodePolicy Default { get; } = new();

    /// <summary>Smallest count either category of a binary variable in a GLM may have (DataSHIELD <c>nfilter.tab</c>: 3).</summary>
    public int GlmMinCategoryCount { get; init; } = 3;

    /// <summary>A GLM is saturated, and refused, when its parameters exceed this share of its rows (DataSHIELD <c>nfilter.glm</c>: 0.33).</summary>
    public double GlmMaxParameterShare { get; init; } = 0.33;

    /// <summary>The permit's output rules; <see cref="DisclosurePolicy.Threshold"/> is the smallest count a node releases.</summary>
    public DisclosurePolicy Disclosure { get; init; } = DisclosurePolicy.Default;

    /// <summary>The problems with the values, empty when they are all in range.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(Disclosure.Validate());
        if (GlmMinCategoryCount is < 1 or > 1000)
        {
            errors.Add("glmMinCategoryCount must be between 1 and 1000.");
        }

        if (double.IsNaN(GlmMaxParameterShare) || GlmMaxParameterShare is <= 0 or > 1)
        {
            errors.Add("glmMaxParameterShare must be above 0 and at most 1.");
        }

        return errors;
    }
}
