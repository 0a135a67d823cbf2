using BenchmarkDotNet.Attributes;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Learning;

namespace OpenSpe.Bench;

/// <summary>
/// FedAvg logistic regression over the three CNSIM sites in this process (no network): a 10-round training with noise
/// (each node opening its session, reading its CSV once, then per round 5 local epochs, clipping, 3 exact discrete
/// Gaussian draws and a ledger reservation), the same without noise, and the exact sampler alone.
/// </summary>
[Config(typeof(GlmBenchConfig))]
public class FedAvgBenchmark
{
    private const int Rounds = 10;
    private static readonly Dictionary<string, double[]> Scaling = new() { ["PM_BMI_CONTINUOUS"] = [27, 5], ["LAB_HDL"] = [1.5, 0.5] };
    private readonly DiscreteGaussian _sampler = new(CryptographicRandomSource.Instance);
    private readonly Rational _variance = Rational.FromInteger(1_000_000);
    private string _data = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        _data = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("Run from inside the repository."), "tests", "OpenSpe.Federation.Tests", "TestData", "cnsim");
    }

    [Benchmark(Description = "10 FedAvg rounds, 3 nodes, noise σ² = 10⁶ units²")]
    public Task<FedAvgOutcome> TrainWithNoise() => Train("1000000", LearningNodeSettings.Default);

    [Benchmark(Description = "10 FedAvg rounds, 3 nodes, no noise")]
    public Task<FedAvgOutcome> TrainWithoutNoise() => Train(null, new LearningNodeSettings { RequireNoise = false });

    [Benchmark(Description = "1,000 discrete Gaussian draws, σ² = 10⁶", OperationsPerInvoke = 1000)]
    public System.Numerics.BigInteger Draws()
    {
        var sum = System.Numerics.BigInteger.Zero;
        for (var i = 0; i < 1000; i++)
        {
            sum += _sampler.Sample(_variance);
        }

        return sum;
    }

    private Task<FedAvgOutcome> Train(string? variance, LearningNodeSettings settings)
    {
        var budget = new PrivacyBudget(100, 1e-3);
        IReadOnlyList<IFederatedLearner> nodes = [.. Enumerable.Range(1, 3).Select(i => new LocalLearningNode(
            $"node{i}", Path.Combine(_data, $"node{i}"), NodePolicy.Default, settings, new PrivacyLedger(new InMemoryPrivacyLedgerStore()), budget, CryptographicRandomSource.Instance))];
        var spec = new FedAvgSpecification
        {
            Formula = "DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL",
            Scaling = Scaling,
            Rounds = Rounds,
            LocalEpochs = 5,
            LearningRate = 4,
            Granularity = 1e-4,
            ClipUnits = 1000,
            NoiseVariance = variance,
        };
        return new FedAvgCoordinator().TrainAsync(nodes, spec, "BENCH", "bench", null, null, CancellationToken.None);
    }
}
