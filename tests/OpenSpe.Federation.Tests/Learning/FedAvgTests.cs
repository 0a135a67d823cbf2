using System.Globalization;
using System.Text;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Learning;

namespace OpenSpe.Federation.Tests.Learning;

/// <summary>
/// FedAvg logistic regression over in-process nodes: without noise it reaches the exact federated GLM's estimates (on
/// synthetic data and on the CNSIM sites), every update is clipped, the noise is charged to each node's ledger, and the
/// round that would overspend is refused before anything leaves.
/// </summary>
public sealed class FedAvgTests : IDisposable
{
    private const string Permit = "P-FL";
    private const string Requester = "alice";
    private static readonly LearningNodeSettings NoiseFree = new() { RequireNoise = false };
    private static readonly Dictionary<string, double[]> CnsimScaling = new() { ["PM_BMI_CONTINUOUS"] = [27, 5], ["LAB_HDL"] = [1.5, 0.5] };
    private readonly Nodes _nodes = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _nodes.Dispose();

    private static LocalLearningNode Learner(string name, string directory, PrivacyLedger? ledger = null, LearningNodeSettings? settings = null, PrivacyBudget? budget = null, int seed = 1) =>
        new(name, directory, NodePolicy.Default, settings ?? LearningNodeSettings.Default, ledger ?? new PrivacyLedger(new InMemoryPrivacyLedgerStore()),
            budget ?? PrivacyBudget.Default, new SeededRandomSource(seed));

    private static IReadOnlyList<LocalLearningNode> CnsimLearners(LearningNodeSettings? settings = null, PrivacyLedger? ledger = null, PrivacyBudget? budget = null) =>
        [.. Enumerable.Range(1, 3).Select(i => Learner($"node{i}", Nodes.TestData("cnsim", $"node{i}"), ledger, settings, budget, seed: i))];

    private static Task<FedAvgOutcome> Train(IReadOnlyList<IFederatedLearner> nodes, FedAvgSpecification spec, PrivacyLedger? ledger = null, LedgerScope? scope = null) =>
        new FedAvgCoordinator().TrainAsync(nodes, spec, Permit, Requester, ledger, scope, Ct);

    private static async Task<GlmResult> Glm(IReadOnlyList<IFederatedNode> nodes, string formula) =>
        (await new FederatedGlmCoordinator().FitAsync(nodes, new GlmSpecification { Formula = formula, Family = "binomial" }, Ct)).Result!;

    [Fact]
    [Trait("Requirement", "TIR-28")]
    [Trait("Requirement", "FCR-8")]
    public async Task Without_noise_FedAvg_reaches_the_exact_glm_on_synthetic_data()
    {
        var (a, b) = (Synthetic(400, seed: 1), Synthetic(700, seed: 2));
        var learners = new[] { Learner("a", _nodes.Directory(("data.csv", a)), settings: NoiseFree), Learner("b", _nodes.Directory(("data.csv", b)), settings: NoiseFree) };
        var spec = new FedAvgSpecification { Formula = "y ~ x1 + x2", Rounds = 300, LocalEpochs = 1, LearningRate = 2, Granularity = 1e-9, ClipUnits = 1L << 40 };

        var outcome = await Train(learners, spec);
        var glm = await Glm([_nodes.FromCsv("a", a), _nodes.FromCsv("b", b)], "y ~ x1 + x2");

        Assert.Null(outcome.Failure);
        Assert.Equal(300, outcome.Result!.Rounds);
        Assert.Equal(glm.Coefficients.Select(c => c.Term), outcome.Result.Columns);
        foreach (var (coefficient, estimate) in glm.Coefficients.Zip(outcome.Result.Estimates))
        {
            Assert.True(Math.Abs(coefficient.Estimate - estimate) <= 1e-4, $"{coefficient.Term}: FedAvg {estimate}, GLM {coefficient.Estimate}");
        }

        Assert.Equal(new[] { 400, 700 }, outcome.Result.Nodes.Select(n => n.Rows));
    }

    [Fact]
    [Trait("Requirement", "TIR-28")]
    [Trait("Requirement", "FCR-8")]
    public async Task Without_noise_FedAvg_over_the_three_CNSIM_sites_approaches_the_exact_glm()
    {
        const string formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS + LAB_HDL";
        var spec = new FedAvgSpecification { Formula = formula, Scaling = CnsimScaling, Rounds = 200, LocalEpochs = 5, LearningRate = 4, Granularity = 1e-9, ClipUnits = 1L << 40 };

        var outcome = await Train(CnsimLearners(NoiseFree), spec);
        var glm = await Glm(Nodes.Cnsim(), formula);

        Assert.Null(outcome.Failure);
        foreach (var (coefficient, estimate) in glm.Coefficients.Zip(outcome.Result!.Estimates))
        {
            // Within a tenth of the GLM's standard error: a gradient method stops short of the optimum, never elsewhere.
            Assert.True(Math.Abs(coefficient.Estimate - estimate) <= coefficient.StandardError / 10, $"{coefficient.Term}: FedAvg {estimate}, GLM {coefficient.Estimate} ± {coefficient.StandardError}");
        }
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task Every_update_is_clipped_to_K_units()
    {
        const long k = 50;
        var recorded = new List<IReadOnlyList<long>>();
        var learners = CnsimLearners(NoiseFree).Select(l => (IFederatedLearner)new Recording(l, recorded)).ToList();
        var spec = new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS + LAB_HDL", Scaling = CnsimScaling, Rounds = 5, LearningRate = 4, Granularity = 1e-3, ClipUnits = k };

        var outcome = await Train(learners, spec);

        Assert.Null(outcome.Failure);
        Assert.Equal(15, recorded.Count);
        Assert.All(recorded, u => Assert.True(LogisticLocalModel.SquaredNorm([.. u]) <= k * k, $"|u|² = {LogisticLocalModel.SquaredNorm([.. u])}"));
        // The first rounds' gradients are far longer than 50 units, so clipping acted: the updates sit on the bound.
        Assert.Contains(recorded, u => LogisticLocalModel.SquaredNorm([.. u]) > (k - 2) * (k - 2));
    }

    [Theory]
    [InlineData(new[] { 1e9, -3e9, 7 }, 1000L)]
    [InlineData(new[] { 0.9999, 0.9999, 0.9999, 0.9999 }, 2L)]
    [InlineData(new[] { double.NaN, 5, double.PositiveInfinity }, 3L)]
    [InlineData(new[] { 2.9999999999, 4.0000000001 }, 5L)]
    [Trait("Requirement", "FCR-9")]
    public void Clipping_to_units_never_exceeds_the_bound(double[] change, long k)
    {
        var units = LogisticLocalModel.ClipToUnits(change, 1, k);

        Assert.True(LogisticLocalModel.SquaredNorm(units) <= k * k);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task Noise_is_charged_to_each_nodes_ledger_exactly_per_round()
    {
        var ledger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var spec = new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS", Rounds = 4, ClipUnits = 100, NoiseVariance = "1000000" };

        var outcome = await Train([Learner("node1", Nodes.TestData("cnsim", "node1"), ledger)], spec);

        Assert.Null(outcome.Failure);
        // ρ = (2K)² / (2σ²) = 40000 / 2000000 = 1/50 per round, 4 rounds: 0.08 exactly.
        Assert.Equal(new Rational(1, 50), spec.RhoPerRound);
        Assert.Equal(new PrivacySpend(4 * RhoUnits.PerRho / 50, 0), (await ledger.Store.SpentAsync(Permit, Requester, Ct)));
    }

    [Theory]
    [Trait("Requirement", "FCR-9")]
    [Trait("Requirement", "FSPER-4")]
    [InlineData("beyond the bound", new long[] { 80, 61 })]
    [InlineData("one coordinate past K", new long[] { 101, 0 })]
    [InlineData("too short", new long[] { 1 })]
    public async Task A_local_step_whose_update_breaks_the_clipping_bound_or_length_is_refused_before_any_noise_or_charge(string why, long[] units)
    {
        var ledger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var spec = new FedAvgSpecification { Formula = "y ~ x", Rounds = 2, ClipUnits = 100, NoiseVariance = "1000000" };
        var (session, _, _) = FedAvgNodeSession.Over(spec, new FixedSteps(units), LearningNodeSettings.Default, ledger,
            new LedgerScope(Permit, Requester, PrivacyBudget.Default), new SeededRandomSource(1));

        var round = await session!.RoundAsync(1, [0.0, 0.0], Ct);

        Assert.True(round.Code == Contracts.ErrorCodes.FederatedComponentOutputRefused, $"{why}: {round.Code}");
        Assert.Null(round.Update);
        Assert.Equal(new PrivacySpend(0, 0), await ledger.Store.SpentAsync(Permit, null, Ct));
    }

    /// <summary>A local step (as a sandboxed one could be) that answers the same units every round.</summary>
    private sealed class FixedSteps(long[] units) : IClippedUpdateSource
    {
        public IReadOnlyList<string> Columns { get; } = ["(Intercept)", "x"];

        public int Rows => 100;

        public Task<LearnerRound> ClippedUnitsAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken) =>
            Task.FromResult(new LearnerRound(units, null, null));
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task The_node_refuses_the_round_that_would_overspend_and_keeps_the_rounds_paid_for()
    {
        var ledger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var budget = new PrivacyBudget(1.0, 1e-6); // ρ cap ≈ 0.01747
        var spec = new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS", Rounds = 5, ClipUnits = 100, NoiseVariance = "4000000" }; // ρ 0.005 a round

        var outcome = await Train([Learner("node1", Nodes.TestData("cnsim", "node1"), ledger, budget: budget)], spec);

        Assert.Equal(FederatedLearningCodes.BudgetExhausted, outcome.Failure!.Code);
        Assert.Equal("node1", Assert.Single(outcome.Failure.Nodes).Node);
        Assert.Equal(3, outcome.Result!.Rounds);
        Assert.Equal(new PrivacySpend(3 * RhoUnits.PerRho / 200, 0), await ledger.Store.SpentAsync(Permit, null, Ct));
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task The_coordinators_ledger_refuses_before_any_node_is_asked()
    {
        var nodeLedger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var coordinatorLedger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var spec = new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS", Rounds = 2, ClipUnits = 100, NoiseVariance = "400000" }; // ρ 0.05 > cap at ε 1

        var outcome = await Train([Learner("node1", Nodes.TestData("cnsim", "node1"), nodeLedger)], spec, coordinatorLedger, new LedgerScope(Permit, Requester, new PrivacyBudget(1.0, 1e-6)));

        Assert.Equal(FederatedLearningCodes.BudgetExhausted, outcome.Failure!.Code);
        Assert.Null(outcome.Result);
        Assert.Equal(new PrivacySpend(0, 0), await nodeLedger.Store.SpentAsync(Permit, null, Ct));
        Assert.Equal(new PrivacySpend(0, 0), await coordinatorLedger.Store.SpentAsync(Permit, null, Ct));
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task A_node_refuses_to_release_without_noise_unless_its_operator_allows_it()
    {
        var spec = new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS", Rounds = 1 };

        var opening = await Learner("node1", Nodes.TestData("cnsim", "node1")).OpenAsync(spec, Permit, Requester, Ct);

        Assert.Equal(FederationAnalysisCodes.InvalidParameters, opening.Code);
        Assert.Null(opening.Columns);
    }

    [Theory]
    [InlineData("rounds")]
    [InlineData("clip")]
    [InlineData("noise")]
    [InlineData("negative-noise")]
    [InlineData("rate")]
    [InlineData("scaling")]
    [InlineData("formula")]
    [InlineData("response")]
    public async Task Malformed_requests_are_refused_at_the_node_with_nothing_released(string what)
    {
        var spec = new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS", NoiseVariance = "100" };
        spec = what switch
        {
            "rounds" => spec with { Rounds = 0 },
            "clip" => spec with { ClipUnits = 0 },
            "noise" => spec with { NoiseVariance = "1e3" },
            "negative-noise" => spec with { NoiseVariance = "-4" },
            "rate" => spec with { LearningRate = double.NaN },
            "scaling" => spec with { Scaling = new Dictionary<string, double[]> { ["(Intercept)"] = [0, 2] } },
            "formula" => spec with { Formula = "DIS_DIAB ~ log(PM_BMI_CONTINUOUS)" },
            _ => spec with { Formula = "PM_BMI_CONTINUOUS ~ LAB_HDL" },
        };

        var opening = await Learner("node1", Nodes.TestData("cnsim", "node1")).OpenAsync(spec, Permit, Requester, Ct);

        Assert.True(opening.IsRefused, what);
        Assert.Contains(opening.Code, new[] { FederationAnalysisCodes.InvalidParameters, FederationAnalysisCodes.DatasetUnusable });
        Assert.Null(opening.Columns);
    }

    [Fact]
    public async Task Rounds_out_of_order_and_malformed_parameters_are_refused_and_charge_nothing()
    {
        var ledger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var node = Learner("node1", Nodes.TestData("cnsim", "node1"), ledger);
        Assert.False((await node.OpenAsync(new FedAvgSpecification { Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS", Rounds = 3, NoiseVariance = "100000000000" }, Permit, Requester, Ct)).IsRefused);

        Assert.True((await node.RoundAsync(2, [0, 0], Ct)).IsRefused);
        Assert.True((await node.RoundAsync(1, [0, 0, 0], Ct)).IsRefused);
        Assert.True((await node.RoundAsync(1, [double.NaN, 0], Ct)).IsRefused);
        Assert.Equal(new PrivacySpend(0, 0), await ledger.Store.SpentAsync(Permit, null, Ct));
        Assert.False((await node.RoundAsync(1, [0, 0], Ct)).IsRefused);
        Assert.True((await node.RoundAsync(1, [0, 0], Ct)).IsRefused); // a round is answered once
    }

    [Fact]
    public async Task A_node_with_fewer_rows_than_the_threshold_refuses()
    {
        var tiny = "y,x\n0,1\n1,2\n0,3\n1,4\n";

        var opening = await Learner("tiny", _nodes.Directory(("data.csv", tiny))).OpenAsync(new FedAvgSpecification { Formula = "y ~ x", NoiseVariance = "100" }, Permit, Requester, Ct);

        Assert.Equal(FederationAnalysisCodes.DisclosureTrap, opening.Code);
    }

    // y ~ Bernoulli(logistic(−0.5 + 1.2·x1 − 0.8·x2)), x1, x2 ~ N(0, 1) by Box–Muller from a seeded generator.
    private static string Synthetic(int rows, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var text = new StringBuilder("y,x1,x2\n");
        for (var i = 0; i < rows; i++)
        {
            var (x1, x2) = (Normal(), Normal());
            var p = 1 / (1 + Math.Exp(-(-0.5 + (1.2 * x1) - (0.8 * x2))));
            text.Append(CultureInfo.InvariantCulture, $"{(random.NextDouble() < p ? 1 : 0)},{x1:R},{x2:R}\n");
        }

        return text.ToString();
    }

    private sealed class Recording(IFederatedLearner inner, List<IReadOnlyList<long>> updates) : IFederatedLearner
    {
        public string Name => inner.Name;

        public Task<LearnerOpening> OpenAsync(FedAvgSpecification specification, string permit, string requester, CancellationToken cancellationToken) =>
            inner.OpenAsync(specification, permit, requester, cancellationToken);

        public async Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
        {
            var answer = await inner.RoundAsync(round, parameters, cancellationToken);
            lock (updates)
            {
                updates.Add(answer.Update!);
            }

            return answer;
        }
    }
}
