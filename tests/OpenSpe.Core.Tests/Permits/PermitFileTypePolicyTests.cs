using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Permits;

/// <summary>The permit's file-type policy per direction (TIR-5): what is not listed does not cross.</summary>
public sealed class PermitFileTypePolicyTests
{
    private static readonly PermitDocument Base = new(
        "R-1", "Study", "scientific-research", "basis", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1),
        [new PermitDataset("d", "D", "holder")], [new PermitDataUser(Account: "alice")]);

    private static readonly PermitDocument WithTypes = Base with { Policies = new PermitPolicies(FileTypes: new PermitFileTypes(["csv"], ["r", "py"], ["png"])) };

    [Theory]
    [InlineData(TransferDirection.Upload, "csv")]
    [InlineData(TransferDirection.Import, "r,py")]
    [InlineData(TransferDirection.Export, "png")]
    public void Each_direction_has_its_own_list(TransferDirection direction, string expected)
    {
        Assert.Equal(expected.Split(','), PermitFileTypePolicy.AllowedIn(WithTypes, direction));
    }

    [Fact]
    public void A_permit_without_a_policy_allows_nothing()
    {
        Assert.All(Enum.GetValues<TransferDirection>(), d => Assert.Empty(PermitFileTypePolicy.AllowedIn(Base, d)));
        Assert.Empty(PermitFileTypePolicy.AllowedIn(Base with { Policies = new PermitPolicies(FileTypes: new PermitFileTypes()) }, TransferDirection.Upload));
        Assert.Empty(PermitFileTypePolicy.AllowedIn(WithTypes, (TransferDirection)9));
        Assert.False(PermitFileTypePolicy.Allows(Base, TransferDirection.Upload, "csv"));
    }

    [Theory]
    [InlineData(TransferDirection.Upload, "csv", true)]
    [InlineData(TransferDirection.Upload, "CSV", false)]
    [InlineData(TransferDirection.Upload, "png", false)]
    [InlineData(TransferDirection.Upload, null, false)]
    [InlineData(TransferDirection.Import, "py", true)]
    [InlineData(TransferDirection.Export, "png", true)]
    [InlineData(TransferDirection.Export, "r", false)]
    [Trait("Requirement", "TIR-5")]
    public void Only_a_listed_type_crosses(TransferDirection direction, string? extension, bool allowed)
    {
        Assert.Equal(allowed, PermitFileTypePolicy.Allows(WithTypes, direction, extension));
    }

    [Fact]
    public void A_null_document_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => PermitFileTypePolicy.AllowedIn(null!, TransferDirection.Upload));
    }
}
