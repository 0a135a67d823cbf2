using System.Globalization;
using System.Text;

namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class MagnitudeRuleTests : IDisposable
{
    private const string Description = """
        {"outputs": [{"file": "income.csv", "kind": "magnitude", "contributions": "c.csv", "cellColumns": ["region"], "valueColumn": "income"}]}
        """;

    private readonly TestFiles _files = new();

    [Theory]
    [InlineData(9, DisclosureStatus.Fail)]
    [InlineData(10, DisclosureStatus.Pass)]
    [InlineData(11, DisclosureStatus.Pass)]
    public void Contributors_AtBelowAndAboveTheThreshold(int contributors, DisclosureStatus expected)
    {
        // Equal contributions: no dominance, and p % holds with two or more besides the top two.
        Write(Enumerable.Repeat(100m, contributors));

        var report = Check();

        Assert.Equal(expected, report.Status);
        Assert.Equal(expected == DisclosureStatus.Fail, report.Findings.Any(f => f.Rule == "magnitude.contributors"));
    }

    [Theory]
    // Top two of 12 contributors hold exactly 90 %, just under and just over: "at least" fails at exactly k.
    [InlineData("450", "450", DisclosureStatus.Fail)]
    [InlineData("445", "445", DisclosureStatus.Pass)]
    [InlineData("455", "455", DisclosureStatus.Fail)]
    public void Dominance_TopTwoHoldingAtLeastK_Fails(string x1, string x2, DisclosureStatus expected)
    {
        // The other ten contributions make the rest of a total of exactly 1000 when x1 = x2 = 450.
        var rest = (1000m - 900m) / 10m;
        var top = new[] { decimal.Parse(x1, CultureInfo.InvariantCulture), decimal.Parse(x2, CultureInfo.InvariantCulture) };
        var others = Enumerable.Repeat(rest + ((900m - top.Sum()) / 10m), 10);
        Write(top.Concat(others));

        var report = Check();

        Assert.Equal(expected == DisclosureStatus.Fail, report.Findings.Any(f => f.Rule == "magnitude.dominance"));
    }

    [Theory]
    // x1 = 100, x2 = 1, the rest sums to 10 → (total − x1 − x2)/x1 = 0.10 exactly: not below p = 0.1, passes.
    [InlineData(10.0, false)]
    [InlineData(9.9, true)]
    [InlineData(10.1, false)]
    public void PPercent_RestBelowPOfTheLargest_Fails(double restTotal, bool fails)
    {
        var rest = Enumerable.Repeat((decimal)restTotal / 10m, 10);
        Write(new[] { 100m, 1m }.Concat(rest));

        var report = Check(new DisclosurePolicy { DominanceK = 1.0 });

        Assert.Equal(fails, report.Findings.Any(f => f.Rule == "magnitude.p-percent"));
    }

    [Fact]
    public void NegativeContribution_IsReview()
    {
        Write(Enumerable.Repeat(100m, 11).Append(-5m));

        var report = Check();

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal(["contributions row 12"], Assert.Single(report.Findings, f => f.Rule == "magnitude.negative-or-missing").Positions);
    }

    [Fact]
    public void MissingContribution_IsReview()
    {
        var csv = new StringBuilder("region,income\n");
        for (var i = 0; i < 12; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"north,{(i == 3 ? "" : "100")}\n");
        }

        _files.Write("c.csv", csv.ToString());
        _files.Write("income.csv", "region,income\nnorth,1100\n");

        Assert.Equal(DisclosureStatus.Review, Check().Status);
    }

    [Fact]
    public void CellWithoutContributions_IsReview()
    {
        Write(Enumerable.Repeat(100m, 12));
        _files.Write("income.csv", "region,income\nnorth,1200\nsouth,5\n");

        var report = Check();

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal(["row 2"], Assert.Single(report.Findings).Positions);
    }

    [Fact]
    public void ContributionsFile_SubmittedItself_Fails()
    {
        Write(Enumerable.Repeat(100m, 12));

        var report = _files.Check("c.csv", Description);

        Assert.Contains(report.Findings, f => f.Rule == "magnitude.contributions-file" && f.Severity == DisclosureStatus.Fail);
    }

    private void Write(IEnumerable<decimal> contributions)
    {
        var csv = new StringBuilder("region,income\n");
        foreach (var c in contributions)
        {
            csv.Append(CultureInfo.InvariantCulture, $"north,{c}\n");
        }

        _files.Write("c.csv", csv.ToString());
        _files.Write("income.csv", "region,income\nnorth,1000\n");
    }

    private FileReport Check(DisclosurePolicy? policy = null) => _files.Check("income.csv", Description, policy);

    public void Dispose() => _files.Dispose();
}
