using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Workspaces;
using OpenSpe.Workspaces.Bubblewrap;

namespace OpenSpe.Bench;

/// <summary>
/// Start-to-exit of <c>true</c> in a project sandbox through <c>BubblewrapRuntime</c>: host-side preparation (run
/// directory, generated /etc, cgroups), the launcher chain (sh, prlimit, setpriv, bwrap), namespace and mount set-up,
/// the command, and clean-up. With and without per-sandbox cgroups.
/// </summary>
[Config(typeof(SandboxBenchConfig))]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "GlobalCleanup disposes the runtime; BenchmarkDotNet owns the instance's lifetime.")]
public class SandboxStartBenchmark
{
    private string _root = "";
    private string _plaintext = "";
    private BubblewrapRuntime? _runtime;

    [Params(true, false)]
    public bool Cgroups { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var name = "openspe-bench-" + Guid.NewGuid().ToString("N")[..8];
        _root = Path.Join(Path.GetTempPath(), name);
        _plaintext = Path.Join("/dev/shm", name);
        var options = new WorkspaceOptions { Root = _root, PlaintextRoot = _plaintext, UidRangeStart = 390_000, UidRangeSize = 10, UseCgroups = Cgroups };
        var identities = new ProjectIdentities(options);
        var staging = new TmpfsPlaintextStaging(options, identities, NullLogger<TmpfsPlaintextStaging>.Instance);
        _runtime = new BubblewrapRuntime(options, identities, staging, NullLogger<BubblewrapRuntime>.Instance);
        if (!_runtime.Availability.IsAvailable)
        {
            throw new InvalidOperationException(_runtime.Availability.Reason);
        }
    }

    [Benchmark(Description = "sandbox start to exit of `true`")]
    public async Task<int> StartToExit()
    {
        var spec = new WorkspaceSpec { ProjectId = "bench", Member = "alice", Command = ["true"] };
        await using var process = await _runtime!.StartAsync(spec, CancellationToken.None);
        var exit = await process.Completion;
        return exit.ExitCode;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _runtime!.DisposeAsync();
        Directory.Delete(_root, recursive: true);
        if (Directory.Exists(_plaintext))
        {
            Directory.Delete(_plaintext, recursive: true);
        }
    }
}

/// <summary>Enough iterations for a median of a ~100 ms operation on a shared 2-core machine.</summary>
public sealed class SandboxBenchConfig : ManualConfig
{
    public SandboxBenchConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(30)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            // Note: in process, because the measured cost is in the child processes and a generated project's build
            // timed out on the shared, loaded machine.
            .WithToolchain(InProcessEmitToolchain.Instance));
        AddColumn(StatisticColumn.Median, StatisticColumn.P90, StatisticColumn.Min, StatisticColumn.Max);
    }
}
