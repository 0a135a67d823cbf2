using System.Globalization;
using System.Text;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// Frequency, magnitude, survival and regression rules: the exact findings (rule, reason, positions) a researcher reads, and
/// the inputs the threshold tests do not reach: columns missing or in first place, values that are no numbers, zero and
/// negative contributions, unsorted contributions, a single contributor, an at-risk series interrupted by a bad value.
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class TableRuleEdgeTests : IDisposable
{
    private const string Magnitude = """
        {"outputs": [{"file": "income.csv", "kind": "magnitude", "contributions": "c.csv", "cellColumns": ["region"], "valueColumn": "income"}]}
        """;

    private const string Survival = """{"outputs": [{"file": "km.csv", "kind": "survival", "atRiskColumn": "n_risk"}]}""";

    private readonly TestFiles _files = new();

    [Fact]
    public void Frequency_EachFindingSaysHowManyCellsAndWhere()
    {
        _files.Write("t1.csv", "sex,yes,no,maybe\nF,12,3,x\nM,0,15,11\n");

        var report = _files.Check("t1.csv", """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}]}""");

        Assert.Equal(
            [
                ("frequency.threshold", "1 count cell(s) below the threshold of 10.", "row 1, column no", DisclosureStatus.Fail),
                ("frequency.zero", "1 zero cell(s); the policy does not allow zeros.", "row 2, column yes", DisclosureStatus.Fail),
                ("description.counts", "1 cell(s) in count columns are not non-negative integers.", "row 1, column maybe", DisclosureStatus.Review),
            ],
            report.Findings.Select(f => (f.Rule, f.Reason, Assert.Single(f.Positions), f.Severity)));
    }

    [Fact]
    public void Frequency_MissingColumns_AreCountedAndNamed()
    {
        _files.Write("t1.csv", "sex,yes,no\nF,12,13\n");

        var report = _files.Check("t1.csv", """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex", "age"], "countColumns": ["yes", "nope"]}]}""");

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("description.columns", DisclosureStatus.Review), (finding.Rule, finding.Severity));
        Assert.Equal("the description names 2 column(s) the file's header does not have.", finding.Reason);
        Assert.Equal(["column age", "column nope"], finding.Positions);
    }

    [Fact]
    public void Frequency_DeclaredCountColumns_LeaveOtherColumnsAlone()
    {
        // "note" is neither a label nor a declared count column: it is not read as a count.
        _files.Write("t1.csv", "sex,n,note\nF,12,small\nM,15,3\n");

        var report = _files.Check("t1.csv", """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"], "countColumns": ["n"]}]}""");

        Assert.Equal(DisclosureStatus.Pass, report.Status);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void Frequency_OnlyLabelColumns_IsReview()
    {
        _files.Write("t1.csv", "sex\nF\nM\n");

        var report = _files.Check("t1.csv", """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}]}""");

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("description.columns", "the table has no count column besides its label columns.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Empty(finding.Positions);
    }

    [Fact]
    public void Undescribed_IsReviewWithoutPositions()
    {
        _files.Write("notes.md", "nothing to see\n");

        var finding = Assert.Single(_files.Check("notes.md", """{"outputs": []}""").Findings);

        Assert.Equal(("description.missing", "the file is not described, so no rule could judge it.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.NotNull(finding.Positions);
        Assert.Empty(finding.Positions);
    }

    [Fact]
    public void Magnitude_MissingColumns_InTableAndContributions_InOrder()
    {
        _files.Write("income.csv", "area,income\nnorth,1000\n");
        _files.Write("c.csv", "area,amount\nnorth,100\n");

        var finding = Assert.Single(_files.Check("income.csv", Magnitude).Findings);

        Assert.Equal(("description.columns", DisclosureStatus.Review), (finding.Rule, finding.Severity));
        Assert.Equal("the description names columns the table or its contributions file does not have.", finding.Reason);
        Assert.Equal(["column region", "contributions column region", "contributions column income"], finding.Positions);
    }

    [Fact]
    public void Magnitude_OnlyTheValueColumnMissing()
    {
        _files.Write("income.csv", "region,income\nnorth,1000\n");
        _files.Write("c.csv", "region,amount\nnorth,100\n");

        Assert.Equal(["contributions column income"], Assert.Single(_files.Check("income.csv", Magnitude).Findings).Positions);
    }

    [Fact]
    public void Magnitude_CellColumnNotFirst_IsFound()
    {
        _files.Write("income.csv", "income,region\n1200,north\n");
        _files.Write("c.csv", "income,region\n" + string.Concat(Enumerable.Repeat("100,north\n", 12)));

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(DisclosureStatus.Pass, report.Status);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void Magnitude_ANonNumberIsNoContributor()
    {
        // Nine numbers and one "n/a" in row 3: nine contributors, fewer than 10.
        var values = Enumerable.Repeat("100", 9).ToList();
        values.Insert(2, "n/a");
        WriteContributions(values);

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(
            [
                ("magnitude.contributors", "1 cell(s) with fewer than 10 contributors.", "row 1"),
                ("magnitude.negative-or-missing", "1 contribution(s) are negative, missing or not numbers.", "contributions row 3"),
            ],
            report.Findings.Select(f => (f.Rule, f.Reason, Assert.Single(f.Positions))));
    }

    [Fact]
    public void Magnitude_AZeroContribution_IsNeitherNegativeNorMissing()
    {
        WriteContributions(Enumerable.Repeat("100", 11).Append("0"));

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(DisclosureStatus.Pass, report.Status);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void Magnitude_AllZero_IsDominatedByNobody()
    {
        WriteContributions(Enumerable.Repeat("0", 12));

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(DisclosureStatus.Pass, report.Status);
    }

    [Fact]
    public void Magnitude_ANegativeCell_IsJudgedByNoDominanceRule()
    {
        // 1000 would dominate a total of 1005, but a cell with a negative contribution goes to a person instead.
        WriteContributions(new[] { "1000", "-5" }.Concat(Enumerable.Repeat("1", 10)));

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(DisclosureStatus.Review, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(("magnitude.negative-or-missing", "1 contribution(s) are negative, missing or not numbers."), (finding.Rule, finding.Reason));
        Assert.Equal(["contributions row 2"], finding.Positions);
    }

    [Fact]
    public void Magnitude_LargestContributionsLastInTheFile_StillDominate()
    {
        // Ten of 1 and then 500 and 500: total 1010, the top two hold 1000 ≥ 0.9 · 1010 = 909; the rest, 10, is 2 % of 500.
        WriteContributions(Enumerable.Repeat("1", 10).Concat(["500", "500"]));

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(
            [
                ("magnitude.dominance", "1 cell(s) where the top 2 contributor(s) hold at least 0.9 of the total."),
                ("magnitude.p-percent", "1 cell(s) where the rest after the two largest contributions is less than 0.1 of the largest."),
            ],
            report.Findings.Select(f => (f.Rule, f.Reason)));
        Assert.All(report.Findings, f => Assert.Equal(["row 1"], f.Positions));
    }

    [Fact]
    public void Magnitude_ASingleContributor_FailsEveryRule()
    {
        // One contributor: fewer than 10; holds 100 % ≥ 90 %; the rest after the top two is 0, below 0.1 of it.
        WriteContributions(["100"]);

        var report = _files.Check("income.csv", Magnitude);

        Assert.Equal(["magnitude.contributors", "magnitude.dominance", "magnitude.p-percent"], report.Findings.Select(f => f.Rule));
    }

    [Fact]
    public void Magnitude_CellWithoutContributions_SaysSo()
    {
        WriteContributions(Enumerable.Repeat("100", 12));
        _files.Write("income.csv", "region,income\nnorth,1200\nsouth,5\nwest,7\n");

        var finding = Assert.Single(_files.Check("income.csv", Magnitude).Findings);

        Assert.Equal(("description.contributions", "2 cell(s) of the table have no contributions.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Equal(["row 2", "row 3"], finding.Positions);
    }

    [Fact]
    public void Survival_AtRiskColumnFirst()
    {
        _files.Write("km.csv", "n_risk,time\n100,0\n95,30\n");

        var finding = Assert.Single(_files.Check("km.csv", Survival).Findings);

        Assert.Equal(("survival.drop", "1 drop(s) in the number at risk above zero and below the threshold of 10.", DisclosureStatus.Fail), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Equal(["row 2, column n_risk"], finding.Positions);
    }

    [Fact]
    public void Survival_NoAtRiskColumn_IsReview()
    {
        _files.Write("km.csv", "time,at_risk\n0,100\n");

        var finding = Assert.Single(_files.Check("km.csv", Survival).Findings);

        Assert.Equal(("description.columns", "the file's header has no at-risk column of the described name.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Equal(["column n_risk"], finding.Positions);
    }

    [Fact]
    public void Survival_ABadValue_BreaksTheSeries()
    {
        // Row 2 is no number: the drop from 100 to 95 spans it and is not a drop between consecutive rows.
        _files.Write("km.csv", "time,n_risk\n0,100\n10,x\n20,95\n");

        var finding = Assert.Single(_files.Check("km.csv", Survival).Findings);

        Assert.Equal(("description.at-risk", "1 at-risk value(s) are not non-negative integers or rise from the row before.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Equal(["row 2, column n_risk"], finding.Positions);
    }

    [Fact]
    public void Survival_ARise_IsReviewAtItsRow()
    {
        _files.Write("km.csv", "time,n_risk\n0,100\n10,100\n20,120\n30,-1\n");

        var finding = Assert.Single(_files.Check("km.csv", Survival).Findings);

        Assert.Equal("description.at-risk", finding.Rule);
        Assert.Equal(["row 3, column n_risk", "row 4, column n_risk"], finding.Positions);
        Assert.StartsWith("2 at-risk value(s)", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_ReasonGivesTheArithmetic()
    {
        _files.Write("model.json", "{}");

        var report = _files.Check("model.json", """{"outputs": [{"file": "model.json", "kind": "regression", "observations": 13, "parameters": 4}]}""");

        var finding = Assert.Single(report.Findings);
        Assert.Equal("9 residual degrees of freedom (13 observations \u2212 4 parameters), below the minimum of 10.", finding.Reason);
        Assert.Empty(finding.Positions);
    }

    private void WriteContributions(IEnumerable<string> values)
    {
        var csv = new StringBuilder("region,income\n");
        foreach (var v in values)
        {
            csv.Append(CultureInfo.InvariantCulture, $"north,{v}\n");
        }

        _files.Write("c.csv", csv.ToString());
        _files.Write("income.csv", "region,income\nnorth,1000\n");
    }

    public void Dispose() => _files.Dispose();
}
