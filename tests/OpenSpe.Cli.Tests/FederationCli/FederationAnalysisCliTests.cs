using System.Text.Json;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Federation;

namespace OpenSpe.Cli.Tests.FederationCli;

/// <summary>
/// <c>spe federation glm</c> and <c>count</c> against three real SPEs on loopback (mutual-TLS gRPC between them, the CNSIM files at
/// the three nodes): the GLM's table and <c>--json</c>, a refusal shown as the server's sentence with its code, and malformed input.
/// </summary>
public sealed class FederationAnalysisCliTests(ThreeNodeFixture nodes) : IClassFixture<ThreeNodeFixture>
{
    private const string CnsimFormula = "DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL";

    private async Task<UploadHarness> AsAsync(string account) => UploadHarness.ForServer(nodes.A.Server, await nodes.A.Server.TokenForAccountAsync(account));

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task Glm_prints_the_coefficients_as_R_does_and_the_node_status_on_standard_error()
    {
        await using var researcher = await AsAsync("researcher");

        var run = await researcher.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", CnsimFormula, "--family", "binomial");

        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("Coefficients:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("(Intercept)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("GENDER:PM_BMI_CONTINUOUS", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Residual deviance: 1036.031 on 7480 degrees of freedom", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Observations used: 7485 (1894 deleted due to missingness)", run.Stdout, StringComparison.Ordinal);
        foreach (var node in new[] { "node-a", "node-b", "node-c" })
        {
            Assert.Contains($"  node {node}: round 1 ok", run.Stderr, StringComparison.Ordinal);
            Assert.Contains($"  node {node}: ok", run.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task Glm_json_has_the_stable_shape_and_DataSHIELDs_numbers()
    {
        await using var researcher = await AsAsync("researcher");

        var run = await researcher.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", CnsimFormula, "--family", "binomial", "--json");

        Assert.True(run.Code == 0, run.Stderr);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(["coefficients", "deviance", "df", "nValid", "nMissing", "iterations", "nodes"], root.EnumerateObject().Select(p => p.Name));
        var intercept = root.GetProperty("coefficients").GetProperty("(Intercept)");
        Assert.Equal(["estimate", "se", "z", "p"], intercept.EnumerateObject().Select(p => p.Name));
        Assert.True(Math.Abs(intercept.GetProperty("estimate").GetDouble() - -6.7426367) <= 1e-6);
        Assert.True(Math.Abs(intercept.GetProperty("se").GetDouble() - 0.8926111) <= 1e-6);
        Assert.Equal(7485, root.GetProperty("nValid").GetInt32());
        Assert.Equal(3, root.GetProperty("nodes").GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task Glm_levels_fix_a_factors_levels_for_every_node_and_a_malformed_one_is_a_usage_error()
    {
        await using var researcher = await AsAsync("researcher");

        var run = await researcher.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", "LAB_HDL ~ factor(GENDER)", "--family", "gaussian",
            "--levels", "GENDER=1,0", "--json");
        var malformed = await researcher.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", "LAB_HDL ~ factor(GENDER)", "--family", "gaussian",
            "--levels", "GENDER");

        Assert.True(run.Code == 0, run.Stderr);
        // Note: the first level given is the reference, so level 0, not 1, has the coefficient.
        Assert.Equal(["(Intercept)", "factor(GENDER)0"], JsonDocument.Parse(run.Stdout).RootElement.GetProperty("coefficients").EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("warning", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, malformed.Code);
        Assert.Contains("--levels 'GENDER'", malformed.Stderr, StringComparison.Ordinal);
        Assert.Empty(malformed.Stdout);
    }

    [Theory]
    [Trait("Requirement", "FCR-3")]
    [InlineData("researcher2", "(" + ErrorCodes.NotFound)]
    [InlineData("holder", "(" + ErrorCodes.Forbidden)]
    public async Task A_non_member_or_another_role_sees_the_servers_refusal_with_its_code(string account, string code)
    {
        await using var client = await AsAsync(account);

        var run = await client.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", CnsimFormula, "--family", "binomial");

        Assert.Equal(1, run.Code);
        Assert.Empty(run.Stdout);
        Assert.Contains(code, run.Stderr, StringComparison.Ordinal);
        Assert.Contains(", trace ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    public async Task A_count_a_nodes_operator_does_not_allow_names_that_node_and_its_code()
    {
        await using var researcher = await AsAsync("researcher");

        var run = await researcher.RunAsync("federation", "count", "--project", nodes.ProjectA, "--concept", "40481087");

        Assert.Equal(1, run.Code);
        Assert.Empty(run.Stdout);
        Assert.Contains($"node-c: {ErrorCodes.FederationComponentNotAllowed}", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"({ErrorCodes.FederatedAnalysisNodeRefused}, trace ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_formula_is_the_servers_400_and_an_unknown_family_a_usage_error()
    {
        await using var researcher = await AsAsync("researcher");

        var formula = await researcher.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", "DIS_DIAB ~ log(LAB_HDL)", "--family", "binomial");
        var family = await researcher.RunAsync("federation", "glm", "--project", nodes.ProjectA, "--formula", CnsimFormula, "--family", "gamma");

        Assert.Equal(1, formula.Code);
        Assert.Contains($"({ErrorCodes.FederatedAnalysisInvalidParameters}, trace ", formula.Stderr, StringComparison.Ordinal);
        Assert.Contains("log", formula.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, family.Code);
        Assert.Contains("gamma", family.Stderr, StringComparison.Ordinal);
        Assert.Empty(formula.Stdout + family.Stdout);
    }
}

/// <summary><c>spe federation count</c> against three real SPEs holding the OMOP sample split by person (threshold 9).</summary>
public sealed class FederationCountCliTests(OmopThreeNodeFixture nodes) : IClassFixture<OmopThreeNodeFixture>
{
    [Fact]
    [Trait("Requirement", "FCR-1")]
    [Trait("Requirement", "FCR-6")]
    public async Task Count_prints_the_released_total_as_a_lower_bound_and_json_the_suppressed_cells()
    {
        await using var researcher = UploadHarness.ForServer(nodes.A.Server, await nodes.A.Server.TokenForAccountAsync("researcher"));

        var table = await researcher.RunAsync("federation", "count", "--project", nodes.ProjectA, "--concept", "40481087");
        var json = await researcher.RunAsync("federation", "count", "--project", nodes.ProjectA, "--concept", "40481087", "--json");

        Assert.True(table.Code == 0, table.Stderr);
        Assert.Contains("SUPPRESSED AT NODES", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("Total: 9 (at least: some counts were suppressed at a node)", table.Stdout, StringComparison.Ordinal);
        Assert.True(json.Code == 0, json.Stderr);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(9, root.GetProperty("total").GetInt64());
        Assert.True(root.GetProperty("totalIsLowerBound").GetBoolean());
        var suppressed = root.GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("cells").EnumerateArray().All(c => c.GetProperty("suppressed").GetBoolean())).Select(n => n.GetProperty("name").GetString());
        Assert.Equal(["node-a", "node-c"], suppressed);
    }
}
