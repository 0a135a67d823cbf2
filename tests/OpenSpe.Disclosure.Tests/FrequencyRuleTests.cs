namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class FrequencyRuleTests : IDisposable
{
    private const string Description = """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"], "countColumns": ["yes", "no"]}]}""";
    private readonly TestFiles _files = new();

    [Theory]
    [InlineData(9, DisclosureStatus.Fail)]
    [InlineData(10, DisclosureStatus.Pass)]
    [InlineData(11, DisclosureStatus.Pass)]
    public void Count_AtBelowAndAboveTheThreshold(int count, DisclosureStatus expected)
    {
        _files.Write("t1.csv", $"sex,yes,no\nF,{count},20\nM,30,40\n");

        var report = _files.Check("t1.csv", Description);

        Assert.Equal(expected, report.Status);
        if (expected == DisclosureStatus.Fail)
        {
            var finding = Assert.Single(report.Findings);
            Assert.Equal("frequency.threshold", finding.Rule);
            Assert.Equal(["row 1, column yes"], finding.Positions);
        }
    }

    [Theory]
    [InlineData(4, DisclosureStatus.Fail)]
    [InlineData(5, DisclosureStatus.Pass)]
    [InlineData(6, DisclosureStatus.Pass)]
    public void Threshold_ComesFromThePolicy(int count, DisclosureStatus expected)
    {
        _files.Write("t1.csv", $"sex,yes,no\nF,{count},20\n");

        Assert.Equal(expected, _files.Check("t1.csv", Description, new DisclosurePolicy { Threshold = 5 }).Status);
    }

    [Fact]
    public void Zero_FailsUnlessThePolicyAllowsZeros()
    {
        _files.Write("t1.csv", "sex,yes,no\nF,0,20\n");

        var refused = _files.Check("t1.csv", Description);
        var allowed = _files.Check("t1.csv", Description, new DisclosurePolicy { ZerosAllowed = true });

        Assert.Equal("frequency.zero", Assert.Single(refused.Findings).Rule);
        Assert.Equal(DisclosureStatus.Pass, allowed.Status);
    }

    [Theory]
    [InlineData("-3")]
    [InlineData("12.5")]
    [InlineData("")]
    [InlineData("many")]
    public void NonCount_InACountColumn_IsReview(string cell)
    {
        _files.Write("t1.csv", $"sex,yes,no\nF,\"{cell}\",20\n");

        var report = _files.Check("t1.csv", Description);

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal("description.counts", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void CountColumns_LeftOut_AreEveryColumnNotALabel()
    {
        _files.Write("t1.csv", "sex,yes,no\nF,12,3\n");

        var report = _files.Check("t1.csv", """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}]}""");

        Assert.Equal(["row 1, column no"], Assert.Single(report.Findings).Positions);
    }

    [Fact]
    public void ColumnMissingFromTheHeader_IsReview()
    {
        _files.Write("t1.csv", "sex,yes\nF,12\n");

        var report = _files.Check("t1.csv", Description);

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal("description.columns", Assert.Single(report.Findings).Rule);
    }

    public void Dispose() => _files.Dispose();
}
