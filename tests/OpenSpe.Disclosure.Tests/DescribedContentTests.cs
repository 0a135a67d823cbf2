using System.Globalization;
using System.Text;
using OpenSpe.Disclosure.Descriptions;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// A description is the researcher's word: a file's own content is judged whatever it is described as, so a table
/// described as text, regression or figure is review, never pass (the bypass an outside review found: a cohort CSV of
/// 2,163 rows passed as "text", as a "regression" and as a "figure").
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class DescribedContentTests : IDisposable
{
    private readonly TestFiles _files = new();

    /// <summary>A row-level cohort extract: one row per person.</summary>
    private static string Cohort(int rows)
    {
        var text = new StringBuilder("person_id,birth_year,sex,postcode,diagnosis,visit_date\n");
        for (var i = 1; i <= rows; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{100000 + i},{1930 + (i * 7 % 80)},{(i % 2 == 0 ? "F" : "M")},{(i * 131 % 900) + 100:000}00,I{10 + (i % 60)}.{i % 10},2023-{1 + (i % 12):00}-{1 + (i % 28):00}\n");
        }

        return text.ToString();
    }

    [Fact]
    public void The_reviewed_bypass_CohortCsvDescribedAsTextRegressionAndFigure_IsReviewEveryTime()
    {
        var cohort = Cohort(2163);
        var paths = new[] { "micro.csv", "micro2.csv", "micro3.csv" }.Select(n => _files.Write(n, cohort)).ToList();
        var descriptions = OutputDescriptionParser.Parse("""
            {"outputs":[{"file":"micro.csv","kind":"text"},{"file":"micro2.csv","kind":"regression","observations":2163,"parameters":3},{"file":"micro3.csv","kind":"figure","basedOn":"micro2.csv"}]}
            """);

        var report = new OutputChecker(DisclosurePolicy.Default).Check(paths, descriptions);

        Assert.All(report.Files, f => Assert.NotEqual(DisclosureStatus.Pass, f.Status));
        Assert.Equal(DisclosureStatus.Review, report.Status);
        var text = Assert.Single(report.Files[0].Findings);
        Assert.Equal("description.table", text.Rule);
        Assert.Equal("described as text, but its content is a table of 2163 rows and 6 columns separated by ','; describe it as a table (frequency, magnitude, survival or records) so its cells are checked.", text.Reason);
        Assert.Equal("regression.rows", Assert.Single(report.Files[1].Findings).Rule);
        Assert.Contains(report.Files[2].Findings, f => f.Rule == "description.fit" && f.Reason.Contains("not an image or SVG", StringComparison.Ordinal));
        Assert.Contains(report.Files[2].Findings, f => f.Rule == "description.table");
        // The figure is checked as its basedOn table as well, and that table is no regression either.
        Assert.Contains(report.Files[2].Findings, f => f.Rule == "regression.rows" && f.Reason.StartsWith("in micro2.csv", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("notes.csv", "a,b\n1,2\n3,4\n", "a table of 2 rows and 2 columns separated by ','")]
    [InlineData("notes.txt", "age\tsex\tn\n40-49\tF\t3\n50-59\tM\t4\n", "a table of 2 rows and 3 columns separated by 'tab'")]
    [InlineData("notes.txt", "id;age\n1;40\n2;51\n3;62\n", "a table of 3 rows and 2 columns separated by ';'")]
    [InlineData("notes.md", "| age | n |\n|---|---|\n| 40 | 3 |\n| 50 | 4 |\n", "a table of 3 rows and 4 columns separated by '|'")]
    [InlineData("notes.txt", "person  age  sex\n1  43  F\n2  51  M\n3  62  F\n", "a table of 3 rows and 3 columns separated by spaces")]
    [InlineData("data.json", """[{"id": 1, "age": 43}, {"id": 2, "age": 51}]""", "JSON holding 2 records")]
    [InlineData("data.json", """{"id": [1, 2, 3], "age": [43, 51, 62]}""", "JSON holding 3 records")]
    public void Table_DescribedAsText_IsReview(string name, string content, string form)
    {
        _files.Write(name, content);

        var report = _files.Check(name, $$"""{"outputs": [{"file": "{{name}}", "kind": "text"}]}""");

        Assert.Equal(DisclosureStatus.Review, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.Equal("description.table", finding.Rule);
        Assert.Contains($"its content is {form};", finding.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notes.md", "# Notes\n\nThe model was fitted on the 2023 cohort, adjusted for age and sex.\nSee t1.csv for the counts, and fig1.png.\n\nResults are in line with earlier work.\n")]
    [InlineData("analysis.R", "library(survival)\nfit <- coxph(Surv(time, status) ~ age + sex, data = cohort)\nsummary(fit)\nwrite.csv(tidy(fit), \"/outputs/coef.csv\")\n")]
    [InlineData("notes.txt", "one line, with a comma\n")]
    [InlineData("meta.json", """{"software": "R 4.4", "seed": 42, "packages": ["survival", "broom"]}""")]
    public void Prose_CodeAndSmallJson_DescribedAsText_StillPass(string name, string content)
    {
        _files.Write(name, content);

        var report = new OutputChecker(DisclosurePolicy.Default, ["md", "r", "txt", "json"]).CheckFile(Path.Combine(_files.Root, name),
            OutputDescriptionParser.Parse($$"""{"outputs": [{"file": "{{name}}", "kind": "text"}]}"""));

        Assert.Empty(report.Findings);
    }

    [Theory]
    [InlineData("coef.csv", "term,estimate,std_error,p_value\n(Intercept),1.204,0.311,0.0001\nage,0.051,0.012,0.002\nsex,0.300,0.101,0.040\n")]
    [InlineData("coef.json", """{"coefficients": {"(Intercept)": 1.204, "age": 0.051, "sex": 0.3}, "se": [0.311, 0.012, 0.101], "aic": 2011.4, "n": 2163}""")]
    [InlineData("summary.txt", "Call:\nlm(formula = y ~ age + sex, data = cohort)\n\nCoefficients:\n            Estimate Std. Error t value Pr(>|t|)\n(Intercept)  1.20400    0.31100   3.871   0.0001 ***\nage          0.05100    0.01200   4.250   0.0020 **\nsex          0.30000    0.10100   2.970   0.0400 *\n\nResidual standard error: 1.2 on 2160 degrees of freedom\nMultiple R-squared:  0.12\n")]
    public void CleanCoefficientTable_DescribedAsRegression_StillPasses(string name, string content)
    {
        _files.Write(name, content);

        var report = new OutputChecker(DisclosurePolicy.Default, ["csv", "json", "txt"]).CheckFile(Path.Combine(_files.Root, name),
            OutputDescriptionParser.Parse($$"""{"outputs": [{"file": "{{name}}", "kind": "regression", "observations": 2163, "parameters": 3}]}"""));

        Assert.Empty(report.Findings);
    }

    [Theory]
    [InlineData(3, 13, DisclosureStatus.Pass)] // parameters + 10 rows: intercept, header lines, fit statistics
    [InlineData(3, 14, DisclosureStatus.Review)]
    [InlineData(3000, 101, DisclosureStatus.Review)] // the parameters are the researcher's word: never more than 100 rows
    [InlineData(3000, 100, DisclosureStatus.Pass)]
    public void RegressionTable_RowsBeyondTheParametersAllow_IsReview(int parameters, int rows, DisclosureStatus expected)
    {
        _files.Write("coef.csv", "term,estimate\n" + string.Concat(Enumerable.Range(1, rows).Select(i => $"x{i},0.{i}\n")));

        var report = _files.Check("coef.csv", $$"""{"outputs": [{"file": "coef.csv", "kind": "regression", "observations": 100000, "parameters": {{parameters}}}]}""");

        Assert.Equal(expected, report.Status);
        Assert.Equal(expected == DisclosureStatus.Review, report.Findings.Any(f => f.Rule == "regression.rows"));
    }

    [Fact]
    public void RegressionJson_WithResiduals_IsReview()
    {
        var residuals = string.Join(", ", Enumerable.Range(1, 2163).Select(i => (i % 17 / 10.0).ToString(CultureInfo.InvariantCulture)));
        _files.Write("model.json", $$"""{"coef": [1.2, 0.3, -0.1], "residuals": [{{residuals}}]}""");

        var report = _files.Check("model.json", """{"outputs": [{"file": "model.json", "kind": "regression", "observations": 2163, "parameters": 3}]}""");

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("regression.rows", DisclosureStatus.Review), (finding.Rule, finding.Severity));
        Assert.Contains("a list of 2163 entries", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_DescribedAsRegression_IsReview()
    {
        _files.Write("forest.png", TestImages.Png);

        var report = _files.Check("forest.png", """{"outputs": [{"file": "forest.png", "kind": "regression", "observations": 2163, "parameters": 3}]}""");

        Assert.Equal("description.fit", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void IdentifiersInAFileDescribedAsRegression_Fail()
    {
        _files.Write("coef.csv", "term,estimate\nage,0.05\nnote,131052-308T\n");

        var report = _files.Check("coef.csv", """{"outputs": [{"file": "coef.csv", "kind": "regression", "observations": 2163, "parameters": 3}]}""");

        Assert.Equal(DisclosureStatus.Fail, report.Status);
        Assert.Equal(["line 3, column 6"], Assert.Single(report.Findings, f => f.Rule == "identifier.fi-hetu").Positions);
    }

    [Fact]
    public void Svg_DescribedAsFigure_IsJudgedOnItsOwnText()
    {
        _files.Write("t1.csv", "sex,n\nF,12\nM,15\n");
        _files.Write("clean.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">\n<rect x=\"0\" y=\"0\" width=\"4\" height=\"8\"/>\n<text x=\"1\" y=\"9\">F</text>\n</svg>\n");
        _files.Write("leaky.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><desc>\n" + Cohort(40) + "</desc></svg>\n");
        const string Description = """
            {"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}, {"file": "clean.svg", "kind": "figure", "basedOn": "t1.csv"}, {"file": "leaky.svg", "kind": "figure", "basedOn": "t1.csv"}]}
            """;

        Assert.Equal(DisclosureStatus.Pass, _files.Check("clean.svg", Description).Status);
        var leaky = _files.Check("leaky.svg", Description);
        Assert.Equal("description.table", Assert.Single(leaky.Findings).Rule);
    }

    public void Dispose() => _files.Dispose();
}
