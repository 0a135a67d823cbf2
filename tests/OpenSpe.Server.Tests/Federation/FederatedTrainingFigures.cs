using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation.Learning;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>The learning nodes with a wide budget (ε 100, δ 10⁻³: ρ about 59), so a long run fits.</summary>
public sealed class WideBudgetLearningFixture : ThreeNodeFixture
{
    protected override IReadOnlyList<string> ExtraComponents => [FedAvgComponent.ComponentName];

    protected override object? PrivacyBudget => new { epsilon = 100, delta = 1e-3 };
}

/// <summary>
/// The figures bench/README.md reports for federated learning over real <c>Train</c> streams (rounds per second over three mTLS
/// nodes; managed memory per open stream at a node). They are printed, not asserted against a time; what is asserted is that the
/// run did what was asked, so a figure never comes from a run that failed.
/// </summary>
public sealed class FederatedTrainingFigures(WideBudgetLearningFixture nodes) : IClassFixture<WideBudgetLearningFixture>
{
    [Fact]
    [Trait("Requirement", "TIR-28")]
    public async Task Fifty_rounds_over_three_nodes_run_to_the_end_and_report_their_rate()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        var spec = new
        {
            formula = "DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL",
            rounds = 50,
            clipUnits = 100,
            granularity = 0.01,
            noiseVariance = "400000",
            scaling = new Dictionary<string, double[]> { ["PM_BMI_CONTINUOUS"] = [27, 5] },
        };

        var started = Stopwatch.GetTimestamp();
        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/train", spec);
        var took = Stopwatch.GetElapsedTime(started);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(50, root.GetProperty("rounds").GetInt32());
        Assert.False(root.TryGetProperty("stopped", out var stopped) && stopped.ValueKind == JsonValueKind.Object, body);
        Assert.Equal(2.5, root.GetProperty("privacy").GetProperty("thisNode").GetProperty("rho").GetDouble(), 9);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"FedAvg over Train streams, 3 nodes, 5 columns, 50 rounds: {took.TotalMilliseconds:F0} ms, {50 / took.TotalSeconds:F1} rounds/s (opening included)");
    }

    [Fact]
    [Trait("Requirement", "TIR-36")]
    public async Task Open_training_streams_at_a_node_report_their_managed_memory()
    {
        const int Streams = 12;
        var client = nodes.PeerClient(nodes.B, "node-a", out var channel);
        using (channel)
        {
            var calls = new List<AsyncDuplexStreamingCall<TrainMessage, TrainMessage>>();
            var runnersBefore = RunnerProcesses.Snapshot();
            var before = GC.GetTotalMemory(forceFullCollection: true);
            try
            {
                for (var i = 0; i < Streams; i++)
                {
                    var call = client.Train(deadline: DateTime.UtcNow.AddMinutes(2));
                    calls.Add(call);
                    await call.RequestStream.WriteAsync(new TrainMessage
                    {
                        Kind = "open",
                        Permit = nodes.SignedPermit,
                        Requester = "researcher",
                        Component = FedAvgComponent.ComponentName,
                        ParametersJson = "{\"formula\":\"DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL\",\"noiseVariance\":\"400000\",\"clipUnits\":100,\"granularity\":0.01}",
                    });
                    Assert.True(await call.ResponseStream.MoveNext());
                    Assert.Equal("opened", call.ResponseStream.Current.Kind);
                }

                var open = GC.GetTotalMemory(forceFullCollection: true);
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"{Streams} open Train streams at node-b (each with its session's model of CNSIM2, 2,432 complete rows): {(open - before) / Streams / 1024.0:F0} KiB managed each (this process holds all three nodes and the peer client)");

                // Each stream also holds a runner in its sandbox, outside the server's heap: its processes' memory is the larger part.
                var opened = RunnerProcesses.Snapshot().Where(p => !runnersBefore.Any(b => b.Pid == p.Pid)).ToList();
                var runners = opened.Where(p => !p.IsSandbox).ToList();
                var wrappers = opened.Where(p => p.IsSandbox).ToList();
                // Note: not asserted equal to the streams: other classes' tests in this process may start or end runners meanwhile, and
                // the count is printed with the figure.
                Assert.NotEmpty(runners);
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"their sandboxes: {runners.Count} runner processes, {runners.Average(p => p.RssKiB) / 1024.0:F1} MiB resident ({runners.Average(p => p.PssKiB) / 1024.0:F1} MiB proportional) each; "
                    + $"{wrappers.Count} bwrap processes around them, {wrappers.Sum(p => p.PssKiB) / (double)Streams / 1024.0:F1} MiB proportional per stream");
            }
            finally
            {
                foreach (var call in calls)
                {
                    call.Dispose();
                }
            }
        }
    }
}

/// <summary>
/// The federated component runners this test process started (its descendants whose command line names the runner), read from
/// /proc: resident and proportional set sizes, and whether the process is the sandbox around a runner (bwrap, or setpriv or prlimit
/// before they exec) rather than the runner.
/// </summary>
internal static class RunnerProcesses
{
    internal sealed record Runner(int Pid, bool IsSandbox, long RssKiB, long PssKiB);

    public static List<Runner> Snapshot()
    {
        var self = Environment.ProcessId;
        var found = new List<Runner>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == self)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                if (!commandLine.Contains("OpenSpe.Federation.Runner", StringComparison.Ordinal) || !DescendsFrom(pid, self))
                {
                    continue;
                }

                var isSandbox = File.ReadAllText(Path.Combine(directory, "comm")).Trim() is "bwrap" or "setpriv" or "prlimit";
                found.Add(new Runner(pid, isSandbox, KiB(Path.Combine(directory, "status"), "VmRSS:"), KiB(Path.Combine(directory, "smaps_rollup"), "Pss:")));
            }
            catch (IOException)
            {
                // Note: a process that ended while it was read is not one of the open streams' runners.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    private static bool DescendsFrom(int pid, int ancestor)
    {
        for (var hops = 0; pid > 1 && hops < 64; hops++)
        {
            var parent = KiB($"/proc/{pid}/status", "PPid:");
            if (parent == ancestor)
            {
                return true;
            }

            pid = (int)parent;
        }

        return false;
    }

    /// <summary>The number after <paramref name="key"/> on its line (kB for the sizes); 0 when there is none.</summary>
    private static long KiB(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var value = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
