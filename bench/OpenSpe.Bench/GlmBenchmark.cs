using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Data;
using OpenSpe.Federation.Glm;

namespace OpenSpe.Bench;

/// <summary>
/// The exact federated GLM on CNSIM (<c>DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL</c>, binomial): one iteration at
/// one node as the transport would call it (parameters JSON in, CSV read, model matrix, traps, sums, JSON out) on the
/// largest site (CNSIM3, 4,128 rows, 3,321 complete), the sums alone on a built matrix, and a whole fit over the three
/// sites in this process (no network). In-process, so no rebuild per run.
/// </summary>
[Config(typeof(GlmBenchConfig))]
public class GlmBenchmark
{
    private const string Formula = "DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL";
    private readonly double[] _beta = [-6.74, -0.36, 0.13, -0.77, -0.001];
    private IReadOnlyList<IFederatedNode> _nodes = [];
    private IFederatedNode _largest = null!;
    private DesignMatrix _design = null!;
    private string _request = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var data = Path.Combine(RepositoryRoot(), "tests", "OpenSpe.Federation.Tests", "TestData", "cnsim");
        _nodes = [.. Enumerable.Range(1, 3).Select(i => new LocalFederatedNode($"node{i}", Path.Combine(data, $"node{i}"), NodePolicy.Default, FederatedAnalyses.BuiltIn()))];
        _largest = _nodes[2];
        _design = DesignMatrix.Build(FormulaParser.Parse(Formula), LocalTable.Read(Path.Combine(data, "node3", "CNSIM3.csv")), GlmFamily.Parse("binomial")!);
        _request = $$"""{"formula": "{{Formula}}", "family": "binomial", "beta": [{{string.Join(", ", _beta.Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture)))}}]}""";
    }

    [Benchmark(Description = "one node iteration, end to end (CNSIM3)")]
    public Task<AnalysisOutcome> NodeIteration() => _largest.RunAsync(GlmNodeAnalysis.ComponentName, _request, CancellationToken.None);

    [Benchmark(Description = "one node iteration, sums only (CNSIM3)")]
    public GlmContribution NodeSums() => GlmNodeComputation.Compute(_design, GlmFamily.Parse("binomial")!, _beta);

    [Benchmark(Description = "whole fit, three nodes in process")]
    public Task<FederatedGlmOutcome> FederatedFit() =>
        new FederatedGlmCoordinator().FitAsync(_nodes, new GlmSpecification { Formula = Formula, Family = "binomial" }, CancellationToken.None);

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }
}

public sealed class GlmBenchConfig : ManualConfig
{
    public GlmBenchConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessNoEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
        AddColumn(StatisticColumn.OperationsPerSecond);
        AddColumn(StatisticColumn.Min, StatisticColumn.Max);
        AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
    }
}
