using System.Globalization;
using System.Text;

namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class RecordsRuleTests : IDisposable
{
    private const string Description = """
        {"outputs": [{"file": "cohort.csv", "kind": "records", "quasiIdentifiers": ["age_band", "sex", "zip3"], "sensitive": ["diagnosis"]}]}
        """;

    private readonly TestFiles _files = new();

    [Theory]
    [InlineData(9, DisclosureStatus.Fail)]
    [InlineData(10, DisclosureStatus.Pass)]
    [InlineData(11, DisclosureStatus.Pass)]
    public void KAnonymity_ClassSizeAtBelowAndAboveK(int size, DisclosureStatus expected)
    {
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "40-49", "F", "001", size, 2);
        Rows(csv, "50-59", "M", "002", 20, 2);
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description);

        Assert.Equal(expected, report.Status);
        if (expected == DisclosureStatus.Fail)
        {
            var finding = Assert.Single(report.Findings, f => f.Rule == "records.k-anonymity");
            Assert.Equal(Enumerable.Range(1, size).Select(r => $"row {r}"), finding.Positions);
            Assert.Contains($"suppressing these {size} row(s) fixes it", finding.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2, DisclosureStatus.Fail)]
    [InlineData(3, DisclosureStatus.Pass)]
    [InlineData(4, DisclosureStatus.Pass)]
    public void LDiversity_DistinctValuesAtBelowAndAboveL(int distinct, DisclosureStatus expected)
    {
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "40-49", "F", "001", 12, distinct);
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description, new DisclosurePolicy { LDiversity = 3 });

        Assert.Equal(expected, report.Status);
        Assert.Equal(expected == DisclosureStatus.Fail, report.Findings.Any(f => f.Rule == "records.l-diversity"));
    }

    [Fact]
    public void Report_NamesRowsNeverValues()
    {
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "90-99", "F", "999", 2, 1);
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description);
        var text = DisclosureReportJson.Write(new DisclosureReport([report]));

        Assert.DoesNotContain("90-99", text, StringComparison.Ordinal);
        Assert.DoesNotContain("999", text, StringComparison.Ordinal);
        Assert.DoesNotContain("dx0", text, StringComparison.Ordinal);
        Assert.Contains(report.Findings, f => f.Rule == "records.suppression" && f.Reason.StartsWith("suppressing 2 of 2 row(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void QuasiIdentifierMissing_IsReview()
    {
        _files.Write("cohort.csv", "age_band,sex,diagnosis\n40-49,F,x\n");

        Assert.Equal(DisclosureStatus.Review, _files.Check("cohort.csv", Description).Status);
    }

    [Fact]
    public void QuotedFieldsWithSeparators_FormOneClass()
    {
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        for (var i = 0; i < 10; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"\"40,49\",\"F\"\"\",001,{(i % 2 == 0 ? "a" : "\"b\nc\"")}\n");
        }

        _files.Write("cohort.csv", csv.ToString());

        Assert.Equal(DisclosureStatus.Pass, _files.Check("cohort.csv", Description).Status);
    }

    private static void Rows(StringBuilder csv, string age, string sex, string zip, int count, int distinct)
    {
        for (var i = 0; i < count; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{age},{sex},{zip},dx{i % distinct}\n");
        }
    }

    public void Dispose() => _files.Dispose();
}
