namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class RegressionAndSurvivalTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Theory]
    [InlineData(13, DisclosureStatus.Fail)]
    [InlineData(14, DisclosureStatus.Pass)]
    [InlineData(15, DisclosureStatus.Pass)]
    public void Regression_ResidualDf_AtBelowAndAboveTheMinimum(int observations, DisclosureStatus expected)
    {
        // 4 parameters: 13 observations leave 9 residual df, 14 leave exactly 10, 15 leave 11.
        _files.Write("model.json", """{"coef": [1.2, 0.3, -0.1, 2.0]}""");

        var report = _files.Check("model.json", $$"""{"outputs": [{"file": "model.json", "kind": "regression", "observations": {{observations}}, "parameters": 4}]}""");

        Assert.Equal(expected, report.Status);
        Assert.Equal(expected == DisclosureStatus.Fail, report.Findings.Any(f => f.Rule == "regression.residual-df"));
    }

    [Theory]
    [InlineData(9, DisclosureStatus.Fail)]
    [InlineData(10, DisclosureStatus.Pass)]
    [InlineData(11, DisclosureStatus.Pass)]
    [InlineData(0, DisclosureStatus.Pass)]
    public void Survival_DropAtBelowAndAboveTheThreshold(int drop, DisclosureStatus expected)
    {
        _files.Write("km.csv", $"time,n_risk,surv\n0,100,1.0\n30,{100 - drop},0.9\n");

        var report = _files.Check("km.csv", """{"outputs": [{"file": "km.csv", "kind": "survival", "atRiskColumn": "n_risk"}]}""");

        Assert.Equal(expected, report.Status);
        if (expected == DisclosureStatus.Fail)
        {
            Assert.Equal(["row 2, column n_risk"], Assert.Single(report.Findings).Positions);
        }
    }

    [Fact]
    public void Survival_AtRiskThatRises_IsReview()
    {
        _files.Write("km.csv", "time,n_risk\n0,100\n30,120\n");

        var report = _files.Check("km.csv", """{"outputs": [{"file": "km.csv", "kind": "survival", "atRiskColumn": "n_risk"}]}""");

        Assert.Equal(DisclosureStatus.Review, report.Status);
    }

    public void Dispose() => _files.Dispose();
}
