using OpenSpe.Core.Desktop;
using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Desktop;

/// <summary>The desktop clipboard policy from the permit's <c>policies.clipboard</c> (TIR-25: closed unless the HDAB opens it).</summary>
public sealed class RfbPolicyTests
{
    [Trait("Requirement", "TIR-25")]
    [Theory]
    [InlineData("none", false, false)]
    [InlineData("in", true, false)]
    [InlineData("out", false, true)]
    [InlineData("both", true, true)]
    [InlineData(null, false, false)]
    [InlineData("", false, false)]
    [InlineData("IN", false, false)]
    [InlineData("all", false, false)]
    public void The_permit_clipboard_mode_opens_exactly_its_directions(string? mode, bool clipboardIn, bool clipboardOut)
    {
        var policy = RfbPolicy.ForClipboardMode(mode, 77);

        Assert.Equal((clipboardIn, clipboardOut, 77), (policy.ClipboardIn, policy.ClipboardOut, policy.MaxCutTextLength));
    }

    [Fact]
    public void Every_mode_the_permit_validator_accepts_is_known_here()
    {
        Assert.All(PermitDefaults.ClipboardModes.Where(m => m != "none"), m => Assert.True(RfbPolicy.ForClipboardMode(m).AnyClipboard, m));
    }

    [Fact]
    public void The_default_policy_opens_nothing_and_allows_1_MiB()
    {
        var policy = new RfbPolicy();

        Assert.Equal((false, false, false, 1024 * 1024), (policy.ClipboardIn, policy.ClipboardOut, policy.AnyClipboard, policy.MaxCutTextLength));
        Assert.Equal(1024 * 1024, RfbPolicy.ForClipboardMode("none").MaxCutTextLength);
    }
}
