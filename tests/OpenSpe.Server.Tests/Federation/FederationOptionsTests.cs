using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>The federation's configuration that must stop a node at start rather than run it with a trust it cannot state.</summary>
public sealed class FederationOptionsTests
{
    [Theory]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "TIR-31")]
    [InlineData(null, "needs Node")]
    [InlineData("", "needs Node")]
    [InlineData("not a node name", "needs Node")]
    [InlineData("node-a", "names this node")]
    public async Task A_trusted_permit_issuer_without_a_valid_coordinating_node_other_than_this_one_stops_the_start_with_one_line(string? node, string expected)
    {
        // node-a's fixture trusts two issuers, each with its node; the first loses (or gets a wrong) Node here.
        await using var fixture = new FederationNodeFixture();

        var failure = await Assert.ThrowsAsync<SpeConfigurationException>(() => fixture.StartAsync(new Dictionary<string, string?>
        {
            ["Federation:TrustedPermitIssuers:0:Node"] = node,
        }));

        Assert.Contains("Federation:TrustedPermitIssuers", failure.Message, StringComparison.Ordinal);
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Message);
    }
}
