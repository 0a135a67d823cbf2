using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;

namespace OpenSpe.Federation.Tests.Glm;

/// <summary>Malformed requests and unusable datasets at a node: a typed refusal, no aggregate, nothing outside the dataset read.</summary>
public sealed class NodeInputTests : IDisposable
{
    private const string Csv = "y,x,name\n1,2,ann\n0,3,bob\n1,4,cy\n0,5,dee\n1,6,eve\n0,7,fay\n1,8,gus\n0,9,hal\n1,1,ida\n0,2,jo\n";
    private readonly Nodes _nodes = new();

    public void Dispose() => _nodes.Dispose();

    private Task<AnalysisOutcome> Run(string parameters, string component = GlmNodeAnalysis.ComponentName) =>
        _nodes.FromCsv("n", Csv).RunAsync(component, parameters, TestContext.Current.CancellationToken);

    [Theory]
    [Trait("Requirement", "FCR-5")]
    [InlineData("not json", "SPE7050")]
    [InlineData("""{"formula": "y ~ x"}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ x", "family": "gamma"}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ x", "family": "binomial", "extra": 1}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ log(x)", "family": "binomial"}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ x", "family": "binomial", "beta": [0]}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ x", "family": "binomial", "beta": [0, "1"]}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ x", "family": "poisson", "beta": [0, 1e308]}""", "SPE7050")]
    [InlineData("""{"formula": "y ~ missing", "family": "binomial"}""", "SPE7051")]
    [InlineData("""{"formula": "y ~ name", "family": "binomial"}""", "SPE7051")]
    [InlineData("""{"formula": "x ~ y", "family": "binomial"}""", "SPE7051")]
    [InlineData("""{"formula": "y ~ x", "family": "binomial", "table": "../data.csv"}""", "SPE7051")]
    [InlineData("""{"formula": "y ~ x", "family": "binomial", "table": "/etc/passwd"}""", "SPE7051")]
    [InlineData("""{"formula": "y ~ x", "family": "binomial", "table": "other.csv"}""", "SPE7051")]
    public async Task Bad_requests_are_refused_with_a_code_and_no_aggregate(string parameters, string code)
    {
        var outcome = await Run(parameters);

        Assert.Null(outcome.AggregateJson);
        Assert.Equal(code, outcome.Refusal?.Code);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task An_unknown_component_is_refused()
    {
        var outcome = await Run("{}", "openspe.something-else");

        Assert.Equal(FederationAnalysisCodes.UnknownComponent, outcome.Refusal?.Code);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task Nodes_with_different_factor_levels_are_refused_until_the_levels_are_fixed()
    {
        // Node one has levels 1 and 2 of g, node two 1, 2 and 3: their columns differ.
        var one = _nodes.FromCsv("one", "y,g\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 2},{1 + (i % 2 == 0 ? i % 4 / 2 : 0)}\n")));
        var two = _nodes.FromCsv("two", "y,g\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 2},{1 + (i % 3)}\n")));
        var coordinator = new FederatedGlmCoordinator();
        var specification = new GlmSpecification { Formula = "y ~ factor(g)", Family = "binomial" };

        var unfixed = await coordinator.FitAsync([one, two], specification, TestContext.Current.CancellationToken);
        var fixedLevels = await coordinator.FitAsync([one, two], specification with { Levels = new Dictionary<string, IReadOnlyList<string>> { ["g"] = ["1", "2", "3"] } }, TestContext.Current.CancellationToken);

        Assert.Equal(FederationAnalysisCodes.CombineFailed, unfixed.Failure?.Code);
        // With the levels fixed, node one's factor(g)3 column is all zeros; the sum is still full rank.
        Assert.Null(fixedLevels.Failure);
        Assert.Equal(["(Intercept)", "factor(g)2", "factor(g)3"], fixedLevels.Result!.Coefficients.Select(c => c.Term));
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task Collinear_columns_are_reported_by_name()
    {
        var csv = "y,x,w\n" + string.Concat(Enumerable.Range(0, 30).Select(i => $"{i % 2},{i},{2 * i}\n"));

        var outcome = await new FederatedGlmCoordinator().FitAsync([_nodes.FromCsv("n", csv)], new GlmSpecification { Formula = "y ~ x + w", Family = "binomial" }, TestContext.Current.CancellationToken);

        Assert.Equal(FederationAnalysisCodes.CombineFailed, outcome.Failure?.Code);
        Assert.Contains("'w'", outcome.Failure!.Message, StringComparison.Ordinal);
    }
}
