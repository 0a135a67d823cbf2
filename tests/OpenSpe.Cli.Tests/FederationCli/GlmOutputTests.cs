using System.Text.Json;
using OpenSpe.Cli.Commands;

namespace OpenSpe.Cli.Tests.FederationCli;

/// <summary>
/// How <c>spe federation glm</c> shows a result the server answered, from the answer alone: a fit that did not converge is
/// printed with R's warning, and <c>--levels</c> is read into the request's <c>levels</c>.
/// </summary>
public sealed class GlmOutputTests
{
    private static JsonElement Answer(bool converged, int iterations) => JsonDocument.Parse($$$"""
        {"coefficients": {"(Intercept)": {"estimate": -30.1, "se": 5000.2, "z": -0.006, "p": 0.995},
                          "x": {"estimate": 60.4, "se": 9000.9, "z": 0.0067, "p": 0.994}},
         "deviance": 0.0000001, "df": 98, "nValid": 100, "nMissing": 0, "iterations": {{{iterations}}}, "converged": {{{(converged ? "true" : "false")}}},
         "family": "binomial", "formula": "y ~ x", "dispersion": 1, "nodes": [{"name": "node-a", "status": "ok", "nValid": 100, "nMissing": 0}]}
        """).RootElement.Clone();

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void A_fit_that_did_not_converge_carries_Rs_warning_under_the_table()
    {
        using var output = new StringWriter();

        FederationAnalysisCommands.WriteGlmTable(output, Answer(converged: false, iterations: 20));

        Assert.Equal(
            "warning: the algorithm did not converge in 20 iterations; estimates may be unreliable (e.g. perfect separation, or a factor level with all outcomes alike)",
            FederationAnalysisCommands.ConvergenceWarning(Answer(converged: false, iterations: 20)));
        Assert.Contains("Number of Fisher scoring iterations: 20", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(FederationAnalysisCommands.ConvergenceWarning(Answer(converged: false, iterations: 20)),
            output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void A_fit_that_converged_has_no_warning()
    {
        using var output = new StringWriter();

        FederationAnalysisCommands.WriteGlmTable(output, Answer(converged: true, iterations: 6));

        Assert.Null(FederationAnalysisCommands.ConvergenceWarning(Answer(converged: true, iterations: 6)));
        Assert.DoesNotContain("warning", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Levels_are_read_per_column_and_a_malformed_one_is_named()
    {
        var levels = FactorLevelsOption.Parse(["GENDER=1,0", "BMI = a, b ,c"], out var bad);

        Assert.Null(bad);
        Assert.Equal(["1", "0"], levels!["GENDER"]);
        Assert.Equal(["a", "b", "c"], levels["BMI"]);
        Assert.Null(FactorLevelsOption.Parse([], out _));
        foreach (var malformed in new[] { "GENDER", "=1,0", " =1,0", "GENDER=", "GENDER=1,,0", "GENDER=1,1" })
        {
            Assert.Null(FactorLevelsOption.Parse([malformed], out bad));
            Assert.Equal(malformed, bad);
        }

        Assert.Null(FactorLevelsOption.Parse(["GENDER=1,0", "GENDER=0,1"], out bad));
        Assert.Equal("GENDER=0,1", bad);
    }
}
