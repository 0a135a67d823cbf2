using OpenSpe.Disclosure.Descriptions;

namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-13")]
public sealed class DescriptionTests : IDisposable
{
    private const string IssueExample = """
        { "outputs": [
          { "file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"], "countColumns": ["yes", "no"] },
          { "file": "income.csv", "kind": "magnitude", "contributions": "income-contributions.csv",
            "cellColumns": ["region"], "valueColumn": "income" },
          { "file": "model.json", "kind": "regression", "observations": 14, "parameters": 4 },
          { "file": "km.csv", "kind": "survival", "atRiskColumn": "n_risk" },
          { "file": "cohort.csv", "kind": "records", "quasiIdentifiers": ["age_band", "sex", "zip3"], "sensitive": ["diagnosis"] },
          { "file": "fig1.png", "kind": "figure", "basedOn": "t1.csv" },
          { "file": "notes.md", "kind": "text" } ] }
        """;

    private readonly TestFiles _files = new();

    [Fact]
    public void IssueExample_ParsesIntoEveryKind()
    {
        var outputs = OutputDescriptionParser.Parse(IssueExample);

        Assert.Collection(outputs,
            o =>
            {
                var frequency = Assert.IsType<FrequencyDescription>(o);
                Assert.Equal("t1.csv", frequency.File);
                Assert.Equal(["sex"], frequency.LabelColumns);
                Assert.Equal(["yes", "no"], frequency.CountColumns!);
            },
            o => Assert.Equal("income-contributions.csv", Assert.IsType<MagnitudeDescription>(o).Contributions),
            o => Assert.Equal((14, 4), (Assert.IsType<RegressionDescription>(o).Observations, ((RegressionDescription)o).Parameters)),
            o => Assert.Equal("n_risk", Assert.IsType<SurvivalDescription>(o).AtRiskColumn),
            o => Assert.Equal(["diagnosis"], Assert.IsType<RecordsDescription>(o).Sensitive),
            o => Assert.Equal("t1.csv", Assert.IsType<FigureDescription>(o).BasedOn),
            o => Assert.IsType<TextDescription>(o));
    }

    [Theory]
    [InlineData("""{"outputs": [{"file": "a.csv", "kind": "text", "colour": "red"}]}""", "outputs[0]: unknown field 'colour' for kind 'text'")]
    [InlineData("""{"outputs": [{"file": "a.csv", "kind": "text", "labelColumns": ["x"]}]}""", "unknown field 'labelColumns' for kind 'text'")]
    [InlineData("""{"outputs": [], "version": 2}""", "description: unknown field 'version'")]
    [InlineData("""{"outputs": [{"file": "a.csv", "kind": "table"}]}""", "outputs[0].kind 'table' is not one of")]
    [InlineData("""{"outputs": [{"file": "a.csv", "kind": "survival"}]}""", "outputs[0].atRiskColumn is required")]
    [InlineData("""{"outputs": [{"file": "../a.csv", "kind": "text"}]}""", "outputs[0].file must be a file name without a directory")]
    [InlineData("""{"outputs": [{"file": "a.csv", "kind": "text"}, {"file": "a.csv", "kind": "text"}]}""", "described twice")]
    [InlineData("""{"outputs": [{"file": "m", "kind": "regression", "observations": "14", "parameters": 4}]}""", "observations must be a whole number")]
    [InlineData("""{"outputs": [{"file": "r.csv", "kind": "records", "quasiIdentifiers": []}]}""", "quasiIdentifiers must name at least one column")]
    [InlineData("""{"outputs": [ """, "not valid JSON")]
    public void InvalidDescription_IsRefusedWithAClearMessage(string json, string message)
    {
        var error = Assert.Throws<DescriptionException>(() => OutputDescriptionParser.Parse(json));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_ReadsEveryAirlockField()
    {
        var policy = DisclosurePolicyParser.Parse("""
            {"threshold": 5, "dominanceN": 3, "dominanceK": 0.8, "pPercent": 0.2, "kAnonymity": 5, "lDiversity": 3,
             "zerosAllowed": true, "minResidualDf": 20, "reviewersRequired": 2}
            """);

        Assert.Equal(new DisclosurePolicy { Threshold = 5, DominanceN = 3, DominanceK = 0.8, PPercent = 0.2, KAnonymity = 5, LDiversity = 3, ZerosAllowed = true, MinResidualDf = 20 }, policy);
    }

    [Theory]
    [InlineData("""{"treshold": 5}""", "unknown field 'treshold'")]
    [InlineData("""{"threshold": 0}""", "threshold must be between 1 and 1000")]
    [InlineData("""{"dominanceK": 1.5}""", "dominanceK must be between 0.5 and 1")]
    [InlineData("""{"zerosAllowed": "yes"}""", "zerosAllowed must be true or false")]
    public void InvalidPolicy_IsRefused(string json, string message)
    {
        var error = Assert.Throws<DescriptionException>(() => DisclosurePolicyParser.Parse(json));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UndescribedFile_IsReviewNeverPass()
    {
        _files.Write("t1.csv", "sex,n\nF,20\n");

        var report = _files.Check("t1.csv", """{"outputs": []}""");

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal("description.missing", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void DescriptionThatDoesNotFit_IsReview()
    {
        _files.Write("t1.csv", "sex,n\nF,\"20\n");

        var report = _files.Check("t1.csv", """{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}]}""");

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal("description.fit", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void Draft_FromHeaders_ParsesBackAndGuessesKinds()
    {
        var paths = new[]
        {
            _files.Write("t1.csv", "sex,yes,no\nF,12,14\n"),
            _files.Write("km.csv", "time,n_risk\n0,100\n"),
            _files.Write("cohort.csv", "age_band,sex,bmi\n40-49,F,22.5\n"),
            _files.Write("notes.md", "# hi\n"),
            _files.Write("fig.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }),
        };

        var outputs = OutputDescriptionParser.Parse(DescriptionDrafter.Draft(paths));

        Assert.Equal(["sex"], Assert.IsType<FrequencyDescription>(outputs[0]).LabelColumns);
        Assert.Equal("n_risk", Assert.IsType<SurvivalDescription>(outputs[1]).AtRiskColumn);
        Assert.Equal(["age_band", "sex", "bmi"], Assert.IsType<RecordsDescription>(outputs[2]).QuasiIdentifiers);
        Assert.IsType<TextDescription>(outputs[3]);
        Assert.IsType<FigureDescription>(outputs[4]);
    }

    public void Dispose() => _files.Dispose();
}
