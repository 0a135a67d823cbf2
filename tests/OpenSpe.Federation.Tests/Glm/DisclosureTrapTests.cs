using System.Globalization;
using System.Text;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;

namespace OpenSpe.Federation.Tests.Glm;

/// <summary>
/// DataSHIELD's GLM disclosure traps at every node, and the two defects of dsBase 6.3.3 absent: its <c>glmDS2</c> still
/// released the score vector when a trap fired, and its risk flags used a stale loop index so only the last column counted.
/// </summary>
public sealed class DisclosureTrapTests : IDisposable
{
    private readonly Nodes _nodes = new();

    public void Dispose() => _nodes.Dispose();

    /// <summary>30 rows: y alternating 0/1, x continuous, a = 1 on <paramref name="aOnes"/> rows, b = 1 on half, g in 1..3.</summary>
    private static string Table(int aOnes = 2, int yOnes = 15, int g2 = 10)
    {
        var csv = new StringBuilder("y,x,a,b,g\n");
        for (var i = 0; i < 30; i++)
        {
            var y = i < yOnes ? 1 : 0;
            var x = ((i * 7) % 11) + (0.5 * (i % 3));
            var a = i % 10 < aOnes && i < 10 ? 1 : 0;
            var b = i % 2;
            var g = i < 10 ? 1 : i < 10 + g2 ? 2 : 3;
            csv.Append(CultureInfo.InvariantCulture, $"{y},{x},{a},{b},{g}\n");
        }

        return csv.ToString();
    }

    private static string Request(string formula, string family = "binomial") =>
        $$"""{"formula": "{{formula}}", "family": "{{family}}"}""";

    private Task<AnalysisOutcome> Run(string formula, string csv) =>
        _nodes.FromCsv("n", csv).RunAsync(GlmNodeAnalysis.ComponentName, Request(formula), TestContext.Current.CancellationToken);

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_trap_that_fires_withholds_the_score_vector_and_everything_else()
    {
        var outcome = await Run("y ~ x + a", Table(aOnes: 2));

        Assert.True(outcome.IsRefused);
        Assert.Null(outcome.AggregateJson);
        Assert.Equal(FederationAnalysisCodes.DisclosureTrap, outcome.Refusal!.Code);
        // The refusal is the rule that fired and nothing computed: no score, information, deviance or counts.
        Assert.Equal(["column 'a' is binary with a category of fewer than 3 rows"], outcome.Refusal.Reasons);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_trap_at_one_node_stops_the_federated_fit_and_no_result_is_made()
    {
        IFederatedNode[] nodes = [_nodes.FromCsv("ok1", Table(aOnes: 5)), _nodes.FromCsv("small", Table(aOnes: 1)), _nodes.FromCsv("ok2", Table(aOnes: 6))];

        var outcome = await new FederatedGlmCoordinator().FitAsync(nodes, new GlmSpecification { Formula = "y ~ x + a", Family = "binomial" }, TestContext.Current.CancellationToken);

        Assert.Null(outcome.Result);
        Assert.Equal(FederationAnalysisCodes.NodeRefused, outcome.Failure!.Code);
        var refusal = Assert.Single(outcome.Failure.Nodes);
        Assert.Equal("small", refusal.Node);
        Assert.Equal(FederationAnalysisCodes.DisclosureTrap, refusal.Refusal.Code);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_small_category_in_a_column_that_is_not_the_last_is_caught()
    {
        // a (small) comes before b (balanced, the last column): a stale loop index would judge b only and pass.
        var outcome = await Run("y ~ a + x + b", Table(aOnes: 2));

        Assert.Equal(FederationAnalysisCodes.DisclosureTrap, outcome.Refusal?.Code);
        Assert.Equal(["column 'a' is binary with a category of fewer than 3 rows"], outcome.Refusal!.Reasons);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_small_factor_level_indicator_before_the_last_level_is_caught()
    {
        // g: level 1 on 10 rows, level 2 on 2, level 3 on 18; factor(g)2 is small, factor(g)3 (the last column) is not.
        var outcome = await Run("y ~ x + factor(g)", Table(aOnes: 5, g2: 2));

        Assert.Equal(["column 'factor(g)2' is binary with a category of fewer than 3 rows", "level '2' of factor(g) has fewer than 3 rows"], outcome.Refusal!.Reasons);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_small_reference_level_which_has_no_column_is_caught()
    {
        // g: level 1 (the reference, no column of its own) on one row; the intercept's score minus those of factor(g)2 and
        // factor(g)3 would be that one person's response.
        var csv = new StringBuilder("y,g\n");
        for (var i = 0; i < 41; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{(i * 37 % 101) / 10.0},{(i == 0 ? 1 : i <= 20 ? 2 : 3)}\n");
        }

        var outcome = await _nodes.FromCsv("n", csv.ToString()).RunAsync(GlmNodeAnalysis.ComponentName, Request("y ~ factor(g)", "gaussian"), TestContext.Current.CancellationToken);

        Assert.True(outcome.IsRefused);
        Assert.Null(outcome.AggregateJson);
        Assert.Equal(["level '1' of factor(g) has fewer than 3 rows"], outcome.Refusal!.Reasons);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_binary_response_with_a_small_category_is_refused()
    {
        var outcome = await Run("y ~ x", Table(yOnes: 2));

        Assert.Equal(["the response is binary with a category of fewer than 3 rows"], outcome.Refusal!.Reasons);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_saturated_model_is_refused()
    {
        var csv = "y,x,z\n1,1,2\n0,2,1\n1,3,5\n0,4,3\n1,5,4\n0,6,9\n";

        var outcome = await Run("y ~ x + z", csv);

        // 3 parameters > 0.33 × 6 rows.
        Assert.Equal(FederationAnalysisCodes.DisclosureTrap, outcome.Refusal?.Code);
        Assert.Contains("too many parameters", Assert.Single(outcome.Refusal!.Reasons), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task Categories_of_exactly_the_minimum_pass()
    {
        var outcome = await Run("y ~ x + a", Table(aOnes: 3));

        Assert.False(outcome.IsRefused, outcome.Refusal?.Message);
        Assert.Contains("\"score\"", outcome.AggregateJson!, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_stricter_node_policy_applies_and_the_request_cannot_loosen_it()
    {
        var node = _nodes.FromCsv("strict", Table(aOnes: 4), NodePolicy.Default with { GlmMinCategoryCount = 5 });

        var outcome = await node.RunAsync(GlmNodeAnalysis.ComponentName, Request("y ~ x + a"), TestContext.Current.CancellationToken);

        Assert.Equal(["column 'a' is binary with a category of fewer than 5 rows"], outcome.Refusal!.Reasons);
    }
}
