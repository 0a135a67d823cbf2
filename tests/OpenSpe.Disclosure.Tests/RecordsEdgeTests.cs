using System.Globalization;
using System.Text;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// Record-level files beyond the thresholds: several violating classes in one file (their order, which rule each breaks,
/// the suppression that fixes them and its share), long quasi-identifier values, ragged rows, an empty file, a sensitive
/// column missing, and more violating classes than the report lists one by one.
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class RecordsEdgeTests : IDisposable
{
    private const string Description = """
        {"outputs": [{"file": "cohort.csv", "kind": "records", "quasiIdentifiers": ["age_band", "sex", "zip3"], "sensitive": ["diagnosis"]}]}
        """;

    private readonly TestFiles _files = new();

    [Fact]
    public void SeveralViolatingClasses_EachWithItsRuleRowsAndFix_ThenTheSuppression()
    {
        // Rows 1-10: a class of 10 with two diagnoses (fine). Row 11: a class of one (too small and one diagnosis).
        // Rows 12-13: a class of two with two diagnoses (too small only). Suppressing 3 of 13 rows = 23.08 %.
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "40-49", "F", "001", 10);
        csv.Append("90-99,M,999,dx0\n");
        Rows(csv, "20-29", "M", "002", 2);
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description);

        Assert.Equal(
            [
                ("records.k-anonymity", "an equivalence class of 1 row(s), fewer than k = 10; suppressing these 1 row(s) fixes it.", "row 11"),
                ("records.l-diversity", "an equivalence class with fewer than l = 2 distinct values of diagnosis; suppressing these 1 row(s) fixes it.", "row 11"),
                ("records.k-anonymity", "an equivalence class of 2 row(s), fewer than k = 10; suppressing these 2 row(s) fixes it.", "row 12, row 13"),
                ("records.suppression", "suppressing 3 of 13 row(s) (23.08 %) makes the file k-anonymous and l-diverse.", ""),
            ],
            report.Findings.Select(f => (f.Rule, f.Reason, string.Join(", ", f.Positions))));
        Assert.All(report.Findings, f => Assert.Equal(DisclosureStatus.Fail, f.Severity));
    }

    [Fact]
    public void LDiversity_NamesEveryPoorSensitiveColumn()
    {
        const string twoSensitive = """
            {"outputs": [{"file": "cohort.csv", "kind": "records", "quasiIdentifiers": ["sex"], "sensitive": ["diagnosis", "drug"]}]}
            """;
        var csv = new StringBuilder("sex,diagnosis,drug\n");
        for (var i = 0; i < 10; i++)
        {
            csv.Append("F,dx,drug\n");
        }

        _files.Write("cohort.csv", csv.ToString());

        var finding = Assert.Single(_files.Check("cohort.csv", twoSensitive).Findings, f => f.Rule == "records.l-diversity");

        Assert.Equal("an equivalence class with fewer than l = 2 distinct values of diagnosis, drug; suppressing these 10 row(s) fixes it.", finding.Reason);
    }

    [Fact]
    public void LongQuasiIdentifierValues_FormTheirOwnClasses()
    {
        // A key of exactly 257 characters ("40-49", "F" and 248 characters, each with a separator), then one of 609.
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "40-49", "F", new string('z', 248), 10);
        Rows(csv, "40-49", "F", new string('y', 600), 1);
        Rows(csv, "40-49", "F", new string('z', 249), 1);
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description);

        Assert.Equal(
            ["records.k-anonymity row 11", "records.l-diversity row 11", "records.k-anonymity row 12", "records.l-diversity row 12", "records.suppression "],
            report.Findings.Select(f => $"{f.Rule} {string.Join(", ", f.Positions)}"));
    }

    [Fact]
    public void AVeryLongFirstValue_FormsOneClass()
    {
        // The first key needs 609 characters, more than twice the first buffer of 256.
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "40-49", "F", new string('y', 600), 10);
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description);

        Assert.Equal(DisclosureStatus.Pass, report.Status);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void RaggedRows_AreReviewAndLeftOutOfTheClasses()
    {
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        Rows(csv, "40-49", "F", "001", 10);
        csv.Append("40-49,F\n");
        csv.Append("40-49,F,001,dx0,extra\n");
        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("description.rows", "2 row(s) have a different number of fields than the header.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Equal(["row 11", "row 12"], finding.Positions);
    }

    [Fact]
    public void EmptyFile_IsReview()
    {
        _files.Write("cohort.csv", "");

        var finding = Assert.Single(_files.Check("cohort.csv", Description).Findings);

        Assert.Equal(("description.columns", "the file is empty (a header row is required).", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
    }

    [Fact]
    public void SensitiveColumnMissing_IsNamed()
    {
        _files.Write("cohort.csv", "age_band,sex,zip3,diagnose\n40-49,F,001,x\n");

        var finding = Assert.Single(_files.Check("cohort.csv", Description).Findings);

        Assert.Equal(("description.columns", "the description names columns the file's header does not have.", DisclosureStatus.Review), (finding.Rule, finding.Reason, finding.Severity));
        Assert.Equal(["column diagnosis"], finding.Positions);
    }

    [Fact]
    public void BeyondTheListingLimit_TheRestAreCounted()
    {
        // 1002 rows, each its own class of one: the first 1000 are listed, the last two counted in one finding.
        var csv = new StringBuilder("age_band,sex,zip3,diagnosis\n");
        for (var i = 0; i < 1002; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i},F,001,dx\n");
        }

        _files.Write("cohort.csv", csv.ToString());

        var report = _files.Check("cohort.csv", Description, new DisclosurePolicy { LDiversity = 1 });

        var listed = report.Findings.Where(f => f.Rule == "records.k-anonymity").ToList();
        Assert.Equal(1000, listed.Count);
        Assert.Equal(["row 1000"], listed[^1].Positions);
        Assert.Equal(
            [
                ("records.more-classes", "2 more violating equivalence class(es) not listed one by one."),
                ("records.suppression", "suppressing 1002 of 1002 row(s) (100 %) makes the file k-anonymous and l-diverse."),
            ],
            report.Findings.Skip(1000).Select(f => (f.Rule, f.Reason)));
    }

    private static void Rows(StringBuilder csv, string age, string sex, string zip, int count)
    {
        for (var i = 0; i < count; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{age},{sex},{zip},dx{i % 2}\n");
        }
    }

    public void Dispose() => _files.Dispose();
}
