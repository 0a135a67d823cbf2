using OpenSpe.Disclosure;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Tests;

public sealed class NodePolicyTests
{
    [Fact]
    [Trait("Requirement", "FCR-6")]
    public void Defaults_are_DataSHIELDs_and_the_permits_threshold()
    {
        Assert.Equal(3, NodePolicy.Default.GlmMinCategoryCount);
        Assert.Equal(0.33, NodePolicy.Default.GlmMaxParameterShare);
        Assert.Equal(10, NodePolicy.Default.Disclosure.Threshold);
        Assert.Empty(NodePolicy.Default.Validate());
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public void Out_of_range_settings_are_reported()
    {
        var policy = new NodePolicy { GlmMinCategoryCount = 0, GlmMaxParameterShare = double.NaN, Disclosure = DisclosurePolicy.Default with { Threshold = 0 } };

        Assert.Equal(3, policy.Validate().Count);
    }
}
