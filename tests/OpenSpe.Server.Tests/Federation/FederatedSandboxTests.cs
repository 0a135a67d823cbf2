using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// Federated components run in the project's sandbox (FSPER-4, FCR-5), on node-a of <see cref="ThreeNodeFixture"/> with its real
/// bubblewrap runtime: what runs there sees its project's staged data and nothing of the server (no network, no server files, its
/// program read-only, not root); an answer that is too long, malformed, of an undeclared shape or below the threshold is refused and
/// nothing of it leaves; a node without a sandbox refuses instead of running the component itself. A stand-in command takes the
/// runner's place where a misbehaving component is needed; the sandbox, the reading and the checks are the node's own.
/// </summary>
public sealed class FederatedSandboxTests(ThreeNodeFixture nodes) : IClassFixture<ThreeNodeFixture>
{
    [Fact]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "SPER-6")]
    public async Task A_component_sees_its_projects_data_and_nothing_of_the_server_no_network_and_its_program_read_only()
    {
        var probe = "printf '{\"refused\":{\"code\":\"SPE7051\",\"reasons\":[\"uid=%s\",\"net=%s\",\"data=%s\",\"server=%s\",\"repository=%s\",\"runner=%s\"]}}\\n' "
            + "\"$(id -u)\" \"$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')\" \"$(ls /data | tr '\\n' ' ')\" "
            + $"\"$(test -e '{nodes.A.Server.DataDirectory}' && echo visible || echo hidden)\" \"$(test -e '{RepositoryRoot.Path}' && echo visible || echo hidden)\" "
            + "\"$(test -r /opt/openspe/federation-runner/OpenSpe.Federation.Runner.dll && (touch /opt/openspe/federation-runner/x 2>/dev/null && echo writable || echo read-only) || echo missing)\"";

        var refused = await Assert.ThrowsAsync<FederatedAnalysisRefusedException>(() => RunAsync(GlmNodeAnalysis.ComponentName, ["/bin/sh", "-c", probe]));

        Assert.Equal(ErrorCodes.FederatedAnalysisDatasetUnusable, refused.Code);
        var seen = refused.Reasons.Split("; ").Select(r => r.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.NotEqual("0", seen["uid"]);
        Assert.Equal("lo ", seen["net"]);
        Assert.Equal("cnsim1 ", seen["data"]);
        Assert.Equal("hidden", seen["server"]);
        Assert.Equal("hidden", seen["repository"]);
        Assert.Equal("read-only", seen["runner"]);
    }

    [Theory]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FCR-5")]
    [Trait("Requirement", "FCR-6")]
    [InlineData("oversized", "openspe.glm", "head -c 1100000 /dev/zero | tr '\\0' 7")]
    [InlineData("oversized but of the declared shape", "openspe.glm",
        "awk 'BEGIN{p=800; printf \"{\\\"aggregate\\\":{\\\"columns\\\":[\"; for(i=0;i<p;i++) printf \"%s\\\"c%d\\\"\", (i?\",\":\"\"), i; "
        + "printf \"],\\\"information\\\":[\"; for(i=0;i<p;i++){printf \"%s[\", (i?\",\":\"\"); for(j=0;j<p;j++) printf \"%s0\", (j?\",\":\"\"); printf \"]\"} "
        + "printf \"],\\\"score\\\":[\"; for(i=0;i<p;i++) printf \"%s0\", (i?\",\":\"\"); printf \"],\\\"deviance\\\":1,\\\"pearsonChiSquare\\\":1,\\\"nValid\\\":12,\\\"nMissing\\\":0}}\\n\"}'")]
    [InlineData("not JSON", "openspe.glm", "echo 'CNSIM rows: 1,2,3'")]
    [InlineData("two answers", "openspe.glm", "echo '{\"refused\":{\"code\":\"SPE7052\",\"reasons\":[\"x\"]}}'; echo '{\"refused\":{\"code\":\"SPE7052\",\"reasons\":[\"y\"]}}'")]
    [InlineData("undeclared member", "openspe.glm",
        "echo '{\"aggregate\":{\"columns\":[\"a\"],\"information\":[[1]],\"score\":[1],\"deviance\":1,\"pearsonChiSquare\":1,\"nValid\":12,\"nMissing\":0,\"rows\":[[4242,1]]}}'")]
    [InlineData("sizes that do not fit", "openspe.glm",
        "echo '{\"aggregate\":{\"columns\":[\"a\",\"b\"],\"information\":[[1]],\"score\":[4242],\"deviance\":1,\"pearsonChiSquare\":1,\"nValid\":12,\"nMissing\":0}}'")]
    [InlineData("count below the threshold", "openspe.omop-cohort-count", "echo '{\"aggregate\":{\"cells\":[{\"count\":2,\"suppressed\":false}],\"threshold\":5}}'")]
    [InlineData("row count below the threshold", "openspe.row-count", "echo '{\"aggregate\":{\"rows\":2,\"suppressed\":false,\"threshold\":5}}'")]
    [InlineData("row count suppressed with its count", "openspe.row-count", "echo '{\"aggregate\":{\"rows\":3,\"suppressed\":true,\"threshold\":5}}'")]
    [InlineData("row count under another threshold", "openspe.row-count", "echo '{\"aggregate\":{\"rows\":2,\"suppressed\":false,\"threshold\":2}}'")]
    [InlineData("an answer, then more", "openspe.row-count", "echo '{\"aggregate\":{\"rows\":7,\"suppressed\":false,\"threshold\":5}}'; echo '{\"aggregate\":{\"rows\":2,\"suppressed\":false,\"threshold\":5}}'")]
    [InlineData("no answer, failed", "openspe.glm", "exit 3")]
    public async Task A_component_answer_that_is_not_a_bounded_outcome_of_its_declared_shape_is_refused_and_nothing_of_it_leaves(string why, string component, string script)
    {
        var refused = await Assert.ThrowsAsync<FederatedAnalysisRefusedException>(() => RunAsync(component, ["/bin/sh", "-c", script]));

        Assert.True(refused.Code == ErrorCodes.FederatedComponentOutputRefused, $"{why}: {refused.Code} {refused.Reasons}");
        Assert.DoesNotContain("4242", refused.Reasons, StringComparison.Ordinal);
        Assert.DoesNotContain("777", refused.Reasons, StringComparison.Ordinal);
        Assert.DoesNotContain("CNSIM rows", refused.Reasons, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    public async Task A_well_formed_answer_passes_as_the_declared_aggregate_only()
    {
        var script = "echo '{\"aggregate\":{\"cells\":[{\"count\":7,\"suppressed\":false},{\"suppressed\":true}],\"threshold\":5}}'";

        var aggregate = await RunAsync(CohortCountNodeAnalysis.ComponentName, ["/bin/sh", "-c", script]);

        Assert.Equal(5, aggregate.GetProperty("threshold").GetInt32());
        Assert.Equal(7, aggregate.GetProperty("cells")[0].GetProperty("count").GetInt64());
        Assert.False(aggregate.GetProperty("cells")[1].TryGetProperty("count", out _));
    }

    [Theory]
    [Trait("Requirement", "FSPER-4")]
    [InlineData("openspe.glm")]
    [InlineData("openspe.row-count")]
    public async Task Without_a_sandbox_a_node_refuses_federated_components_and_decrypts_nothing(string component)
    {
        var services = nodes.A.Server.Services;
        var sandbox = new FederatedComponentSandbox(new UnavailableWorkspaceRuntime(), new UnavailablePlaintextStaging(), services.GetRequiredService<IServiceScopeFactory>(),
            services.GetRequiredService<IOptions<FederationOptions>>(), services.GetRequiredService<ILogger<FederatedComponentSandbox>>());
        var copies = services.GetRequiredService<DecryptedCopies>();
        OpenSpe.Server.Federation.IFederatedAnalysis analysis = component == RowCountAnalysis.Name ? new RowCountAnalysis(sandbox, copies) : new SandboxedAnalysis(component, true, sandbox, copies);
        var made = copies.Made;

        var refused = await Assert.ThrowsAsync<FederatedAnalysisRefusedException>(async () => await analysis.RunAsync(await ContextAsync(), CancellationToken.None));

        Assert.Equal(ErrorCodes.FederatedComponentSandboxUnavailable, refused.Code);
        Assert.Equal(made, copies.Made);
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    public async Task The_row_count_runs_in_the_projects_sandbox()
    {
        var services = nodes.A.Server.Services;
        var runtime = new CountingRuntime(services.GetRequiredService<IWorkspaceRuntime>());
        var analysis = new RowCountAnalysis(Sandbox(runtime), services.GetRequiredService<DecryptedCopies>());

        var result = await analysis.RunAsync(await ContextAsync(), TestContext.Current.CancellationToken);

        Assert.Equal(1, runtime.Starts);
        var count = Assert.Single(result.GetProperty("counts").EnumerateArray());
        Assert.Equal("cnsim1", count.GetProperty("dataset").GetString());
        Assert.Equal(2163, count.GetProperty("rows").GetInt64());
        Assert.Equal(2163, result.GetProperty("total").GetInt64());
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FCR-3")]
    public void The_build_writes_down_every_file_of_the_runner_and_the_runner_here_matches_it()
    {
        var real = nodes.A.Server.Services.GetRequiredService<FederatedComponentSandbox>();

        var manifest = RunnerManifest.Embedded();

        Assert.NotNull(manifest);
        Assert.Equal(Directory.GetFiles(real.RunnerDirectory, "*", SearchOption.AllDirectories).Length, manifest.Count);
        Assert.Null(manifest.Verify(real.RunnerDirectory));
    }

    [Theory]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FCR-3")]
    [InlineData("a byte changed")]
    [InlineData("a file added")]
    [InlineData("a file removed")]
    [InlineData("a file replaced by a link")]
    public async Task A_runner_changed_after_the_build_is_refused_and_nothing_runs(string change)
    {
        var services = nodes.A.Server.Services;
        var real = services.GetRequiredService<FederatedComponentSandbox>();
        using var temp = new TempDirectory();
        var copy = Path.Combine(temp.Path, "federation-runner");
        CopyReadable(real.RunnerDirectory, copy);
        File.SetUnixFileMode(temp.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        var runtime = new CountingRuntime(services.GetRequiredService<IWorkspaceRuntime>());
        var analysis = new RowCountAnalysis(Sandbox(runtime, copy), services.GetRequiredService<DecryptedCopies>());
        // The intact copy runs: what refuses below is the change alone.
        await analysis.RunAsync(await ContextAsync(), TestContext.Current.CancellationToken);
        Assert.Equal(1, runtime.Starts);
        var assembly = Path.Combine(copy, "OpenSpe.Federation.Runner.dll");
        switch (change)
        {
            case "a byte changed":
                var bytes = File.ReadAllBytes(assembly);
                bytes[bytes.Length / 2] ^= 0x01;
                File.WriteAllBytes(assembly, bytes);
                break;
            case "a file added":
                File.WriteAllText(Path.Combine(copy, "OpenSpe.Extra.dll"), "not of the build");
                break;
            case "a file removed":
                File.Delete(Path.Combine(copy, "OpenSpe.Federation.Runner.pdb"));
                break;
            default:
                File.Move(assembly, assembly + ".moved");
                File.CreateSymbolicLink(assembly, assembly + ".moved");
                break;
        }

        var refused = await Assert.ThrowsAsync<FederatedAnalysisRefusedException>(async () => await analysis.RunAsync(await ContextAsync(), TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCodes.FederatedComponentRunnerChanged, refused.Code);
        Assert.Equal(1, runtime.Starts);
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FCR-3")]
    public async Task Beyond_the_kept_runners_cap_a_sessions_rounds_get_runners_of_their_own_and_none_is_left_running()
    {
        var services = nodes.A.Server.Services;
        var token = TestContext.Current.CancellationToken;
        var runtime = new CountingRuntime(services.GetRequiredService<IWorkspaceRuntime>());
        using var copies = Copies(keptRunners: 1);
        var analysis = new SandboxedAnalysis(GlmNodeAnalysis.ComponentName, true, Sandbox(runtime), copies);
        var first = await ContextAsync() with { Session = "cap-first" };
        var second = first with { Session = "cap-second" };

        await analysis.RunAsync(first, token);
        var kept = Assert.Single(copies.Runners);
        await analysis.RunAsync(second, token);
        await analysis.RunAsync(second, token);
        await analysis.RunAsync(first, token);

        // One kept runner for the first session's two rounds; the second session, beyond the cap, one runner per round, each ended
        // before its answer was used.
        Assert.Equal(3, runtime.Starts);
        Assert.Same(kept, Assert.Single(copies.Runners));
        Assert.False(kept.IsBroken);
        Assert.All(runtime.Processes.Skip(1), p => Assert.True(p.Completion.IsCompleted));
        copies.Dispose();
        await Task.WhenAll(runtime.Processes.Select(p => p.Completion)).WaitAsync(TimeSpan.FromMinutes(2), token);
        Assert.Equal(0, copies.Held);
        Assert.Empty(copies.Runners);
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FCR-3")]
    public async Task A_GLM_round_cancelled_in_the_middle_of_its_exchange_ends_the_kept_runner_and_the_decrypted_copy()
    {
        var services = nodes.A.Server.Services;
        var runtime = new CountingRuntime(services.GetRequiredService<IWorkspaceRuntime>());
        using var copies = Copies(keptRunners: 8);
        // A stand-in that reads the request and never answers: the round waits in the exchange until it is cancelled.
        var analysis = new SandboxedAnalysis(GlmNodeAnalysis.ComponentName, true, Sandbox(runtime, command: ["/bin/sh", "-c", "read request; exec sleep 3600"]), copies);
        var context = await ContextAsync() with { Session = "cancelled-mid-exchange" };
        using var cancel = new CancellationTokenSource();

        var round = analysis.RunAsync(context, cancel.Token);
        await runtime.RequestWritten.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Single(copies.Runners);
        Assert.Equal(1, copies.Held);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => round);
        var process = Assert.Single(runtime.Processes);
        await process.Completion.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(0, copies.Held);
        Assert.Empty(copies.Runners);
    }

    /// <summary>Decrypted copies of node-a's own kind, keeping at most <paramref name="keptRunners"/> runners.</summary>
    private DecryptedCopies Copies(int keptRunners)
    {
        var services = nodes.A.Server.Services;
        var options = services.GetRequiredService<IOptions<FederationOptions>>().Value;
        return new DecryptedCopies(services.GetRequiredService<OpenSpe.Server.Permits.HaltRegistry>(), services.GetRequiredService<IWorkspaceRuntime>(),
            services.GetRequiredService<TimeProvider>(), Options.Create(new FederationOptions
            {
                ComponentRunnersKept = keptRunners,
                DecryptedCopyIdle = options.DecryptedCopyIdle,
                MaxDeadline = options.MaxDeadline,
            }));
    }

    /// <summary>A context for node-a's permit and its dataset there, as the task checks admit it.</summary>
    private async Task<FederatedAnalysisContext> ContextAsync()
    {
        var services = nodes.A.Server.Services;
        var (admitted, refusal) = await services.GetRequiredService<FederatedTaskChecks>().AdmitAsync(TaskCaller.ThisNode, nodes.SignedPermit, "researcher", GlmNodeAnalysis.ComponentName, CancellationToken.None);
        Assert.Null(refusal);
        return new FederatedAnalysisContext(admitted!.Permit, admitted.ProjectId, admitted.Datasets,
            JsonSerializer.SerializeToElement(new { formula = "DIS_DIAB ~ LAB_HDL", family = "binomial" }), 5, services.GetRequiredService<IFederatedData>(), (_, _) => ValueTask.CompletedTask);
    }

    /// <summary>Node-a's sandbox for components over <paramref name="runtime"/>, with the runner at <paramref name="runnerDirectory"/> (default: the build's).</summary>
    private FederatedComponentSandbox Sandbox(IWorkspaceRuntime runtime, string? runnerDirectory = null, IReadOnlyList<string>? command = null)
    {
        var services = nodes.A.Server.Services;
        var real = services.GetRequiredService<FederatedComponentSandbox>();
        return new FederatedComponentSandbox(runtime, services.GetRequiredService<IPlaintextStaging>(),
            services.GetRequiredService<IServiceScopeFactory>(), services.GetRequiredService<IOptions<FederationOptions>>(), services.GetRequiredService<ILogger<FederatedComponentSandbox>>())
        {
            RunnerDirectory = runnerDirectory ?? real.RunnerDirectory,
            DotnetRoot = real.DotnetRoot,
            Command = command ?? real.Command,
        };
    }

    private static void CopyReadable(string from, string to)
    {
        Directory.CreateDirectory(to);
        File.SetUnixFileMode(to, (UnixFileMode)Convert.ToInt32("755", 8));
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, directory));
            Directory.CreateDirectory(target);
            File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("755", 8));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("644", 8));
        }
    }

    /// <summary>Runs <paramref name="command"/> as <paramref name="component"/> in node-a's sandbox of its project, on its staged data.</summary>
    private async Task<JsonElement> RunAsync(string component, IReadOnlyList<string> command)
    {
        var sandbox = Sandbox(nodes.A.Server.Services.GetRequiredService<IWorkspaceRuntime>(), command: command);
        await using var plaintext = await sandbox.StageAsync(nodes.ProjectA, ["cnsim1"], TestContext.Current.CancellationToken);
        var request = new RunnerRequest
        {
            Component = component,
            Parameters = JsonSerializer.SerializeToElement(new { }),
            Datasets = ["cnsim1"],
            Policy = NodePolicy.Default with { Disclosure = OpenSpe.Disclosure.DisclosurePolicy.Default with { Threshold = 5 } },
        };
        return await sandbox.RunAsync(nodes.ProjectA, plaintext, request, TestContext.Current.CancellationToken);
    }

    /// <summary>The runtime the node uses, counting the sandboxes started through it.</summary>
    private sealed class CountingRuntime(IWorkspaceRuntime inner) : IWorkspaceRuntime
    {
        private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<IWorkspaceProcess> _processes = [];
        private int _starts;

        public int Starts => Volatile.Read(ref _starts);

        /// <summary>The processes started, in order.</summary>
        public IReadOnlyList<IWorkspaceProcess> Processes
        {
            get
            {
                lock (_processes)
                {
                    return [.. _processes];
                }
            }
        }

        /// <summary>Completes when a request has been written and flushed to a started process's standard input.</summary>
        public Task RequestWritten => _written.Task;

        public WorkspaceAvailability Availability => inner.Availability;

        public async Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _starts);
            var process = new SignallingProcess(await inner.StartAsync(spec, cancellationToken), _written);
            lock (_processes)
            {
                _processes.Add(process);
            }

            return process;
        }

        public Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken) => inner.StopProjectAsync(projectId, reason, cancellationToken);
    }

    /// <summary>A started process whose standard input tells when something written to it was flushed.</summary>
    private sealed class SignallingProcess(IWorkspaceProcess inner, TaskCompletionSource flushed) : IWorkspaceProcess
    {
        public string ProjectId => inner.ProjectId;

        public string Member => inner.Member;

        public Stream StandardInput { get; } = new SignallingStream(inner.StandardInput, flushed);

        public Stream StandardOutput => inner.StandardOutput;

        public Stream StandardError => inner.StandardError;

        public Task<WorkspaceExit> Completion => inner.Completion;

        public Task StopAsync(WorkspaceStopReason reason, CancellationToken cancellationToken) => inner.StopAsync(reason, cancellationToken);

        public Task<Stream> ConnectSocketAsync(string name, CancellationToken cancellationToken) => inner.ConnectSocketAsync(name, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class SignallingStream(Stream inner, TaskCompletionSource flushed) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            inner.Flush();
            Signal();
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await inner.FlushAsync(cancellationToken);
            Signal();
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Interlocked.Add(ref _written, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Interlocked.Add(ref _written, buffer.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        private void Signal()
        {
            if (Interlocked.Read(ref _written) > 0)
            {
                flushed.TrySetResult();
            }
        }
    }
}
