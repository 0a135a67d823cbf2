using System.Text.Json;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Federation;

namespace OpenSpe.Cli.Tests.FederationCli;

/// <summary>
/// <c>spe federation train</c> and <c>privacy</c> against three real SPEs on loopback (Train streams over mutual TLS, the CNSIM files at
/// the three nodes, the permit's default budget: ε 3, δ 10⁻⁶, about ρ 0.147): a run that the budget stops part way, the spend, the
/// refusal of the next run, and malformed input.
/// </summary>
public sealed class FederationTrainCliTests(LearningThreeNodeFixture nodes) : IClassFixture<LearningThreeNodeFixture>
{
    private async Task<UploadHarness> AsAsync(string account) => UploadHarness.ForServer(nodes.A.Server, await nodes.A.Server.TokenForAccountAsync(account));

    // ρ per round = 2 · 100² / 400000 = 0.05: two rounds fit the budget, a third does not.
    private string[] TrainArgs(params string[] more) =>
        ["federation", "train", "--project", nodes.ProjectA, "--formula", "DIS_DIAB ~ GENDER + PM_BMI_CONTINUOUS", "--noise-variance", "400000",
            "--clip-units", "100", "--granularity", "0.01", "--rounds", "4", "--scale", "PM_BMI_CONTINUOUS=27,5", .. more];

    [Fact]
    [Trait("Requirement", "FCR-8")]
    [Trait("Requirement", "FCR-9")]
    public async Task Train_prints_the_model_and_the_spend_stops_where_the_budget_ends_and_privacy_shows_it()
    {
        await using var researcher = await AsAsync("researcher");

        var run = await researcher.RunAsync(TrainArgs());
        var again = await researcher.RunAsync(TrainArgs("--json"));
        var privacy = await researcher.RunAsync("federation", "privacy", "--project", nodes.ProjectA);
        var json = await researcher.RunAsync("federation", "privacy", "--project", nodes.ProjectA, "--json");

        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("TERM", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("PM_BMI_CONTINUOUS", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Rounds: 2, ρ per round per node: 0.05", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("stopped after 2 rounds: SPE7080", run.Stderr, StringComparison.Ordinal);
        foreach (var node in new[] { "node-a", "node-b", "node-c" })
        {
            // Each node's answers as they came (the progress lines), then the summary.
            Assert.Contains($"  node {node}: opened", run.Stderr, StringComparison.Ordinal);
            Assert.Contains($"  node {node}: round 2 ok", run.Stderr, StringComparison.Ordinal);
            Assert.Contains($"  node {node}: ok", run.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(1, again.Code);
        Assert.Empty(again.Stdout);
        Assert.Contains("(SPE7080, trace ", again.Stderr, StringComparison.Ordinal);
        Assert.True(privacy.Code == 0, privacy.Stderr);
        Assert.Contains("Privacy budget of permit HDAB-FED-2026-1: ε 3, δ 1E-06", privacy.Stdout, StringComparison.Ordinal);
        Assert.Contains("coordinated here (you)", privacy.Stdout, StringComparison.Ordinal);
        Assert.True(json.Code == 0, json.Stderr);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(0.1, root.GetProperty("mine").GetProperty("rho").GetDouble(), 12);
        Assert.Equal(0.1, root.GetProperty("thisNode").GetProperty("rho").GetDouble(), 12);
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    public async Task A_holder_sees_the_servers_refusal_and_bad_options_are_usage_errors()
    {
        await using var holder = await AsAsync("holder");
        await using var researcher = await AsAsync("researcher");

        var refused = await holder.RunAsync(TrainArgs());
        var scale = await researcher.RunAsync("federation", "train", "--project", nodes.ProjectA, "--formula", "DIS_DIAB ~ GENDER", "--noise-variance", "400000", "--scale", "GENDER");
        var noNoise = await researcher.RunAsync("federation", "train", "--project", nodes.ProjectA, "--formula", "DIS_DIAB ~ GENDER");
        var badNoise = await researcher.RunAsync("federation", "train", "--project", nodes.ProjectA, "--formula", "DIS_DIAB ~ GENDER", "--noise-variance", "-1");

        Assert.Equal(1, refused.Code);
        Assert.Contains($"({ErrorCodes.Forbidden}, trace ", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, scale.Code);
        Assert.Contains("COLUMN=CENTER,SCALE", scale.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, noNoise.Code);
        Assert.Contains("--noise-variance", noNoise.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, badNoise.Code);
        Assert.Contains($"({ErrorCodes.FederatedAnalysisInvalidParameters}, trace ", badNoise.Stderr, StringComparison.Ordinal);
        Assert.Empty(refused.Stdout + scale.Stdout + noNoise.Stdout + badNoise.Stdout);
    }
}
