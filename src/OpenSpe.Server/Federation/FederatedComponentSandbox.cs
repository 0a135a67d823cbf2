using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Federation.Analyses;
using OpenSpe.Server.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Runs the federated components' runner in a project's sandbox and reads its answer. The runner is the directory
/// <c>federation-runner/</c> beside the server's binaries (the build copies it there), mounted read-only at
/// <c>/opt/openspe/federation-runner</c> with the .NET runtime the server runs on at <c>/opt/openspe/dotnet</c>.
/// </summary>
internal sealed class FederatedComponentSandbox
{
    /// <summary>The sandbox's member name for federated components (its home is empty and unused).</summary>
    public const string Member = "spe-federation";

    private const string RunnerTarget = "/opt/openspe/federation-runner";
    private const string DotnetTarget = "/opt/openspe/dotnet";
    private const string RunnerAssembly = "OpenSpe.Federation.Runner.dll";

    private readonly IWorkspaceRuntime _runtime;
    private readonly IPlaintextStaging _staging;
    private readonly IServiceScopeFactory _scopes;
    private readonly IOptions<FederationOptions> _options;
    private readonly ILogger<FederatedComponentSandbox> _logger;
    private readonly Lazy<(bool Available, string Reason)> _availability;

    public FederatedComponentSandbox(IWorkspaceRuntime runtime, IPlaintextStaging staging, IServiceScopeFactory scopes, IOptions<FederationOptions> options,
        ILogger<FederatedComponentSandbox> logger)
    {
        _runtime = runtime;
        _staging = staging;
        _scopes = scopes;
        _options = options;
        _logger = logger;
        _availability = new(CheckAvailability);
    }

    /// <summary>The runner's directory on the host (the build puts it beside the server's binaries).</summary>
    public string RunnerDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "federation-runner");

    /// <summary>The root of the .NET installation the server runs on (holds <c>dotnet</c> and <c>shared/</c>).</summary>
    public string DotnetRoot { get; init; } = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    /// <summary>What runs in the sandbox; the runner unless a test puts a stand-in there (the sandbox, the reading and the checks stay the same).</summary>
    internal IReadOnlyList<string> Command { get; init; } = [DotnetTarget + "/dotnet", RunnerTarget + "/" + RunnerAssembly];

    /// <summary>Whether components can run here, and if not why (for this node's operator; the peer hears only SPE7056).</summary>
    public (bool Available, string Reason) Availability => _availability.Value;

    /// <summary>Refuses with <c>SPE7056</c> when this node cannot run components in a sandbox.</summary>
    /// <exception cref="FederatedAnalysisRefusedException">No sandbox.</exception>
    public void EnsureAvailable()
    {
        var (available, reason) = Availability;
        if (!available)
        {
            FederationLog.SandboxUnavailable(_logger, reason);
            // Note: the operator's reason (paths, packages) stays in this node's log; a peer learns only that there is no sandbox here.
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentSandboxUnavailable, "this node has no sandbox for federated components");
        }
    }

    /// <summary>A lease on the project's staged plaintext holding <paramref name="datasets"/> (decrypted now when nobody holds one).</summary>
    public async Task<IPlaintextLease> StageAsync(string projectId, IReadOnlyCollection<string> datasets, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DatasetStager>().LeaseAsync(_staging, projectId, datasets, cancellationToken);
    }

    /// <summary>
    /// Starts the runner in <paramref name="projectId"/>'s sandbox on <paramref name="plaintext"/>, sends <paramref name="request"/>, and
    /// returns the aggregate it answers once <see cref="ComponentOutput"/> has accepted it.
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">The component refused, or its answer was refused; nothing of it leaves.</exception>
    public async Task<JsonElement> RunAsync(string projectId, IPlaintextLease plaintext, RunnerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = _options.Value;
        var process = await StartAsync(projectId, plaintext, cancellationToken);
        await using (process)
        {
            // Note: any stop (halt, deadline, the peer gone) kills the whole sandbox at once.
            await using var onStop = cancellationToken.UnsafeRegister(_ => _ = process.StopAsync(WorkspaceStopReason.Requested, CancellationToken.None), null);
            // Note: standard error is drained and dropped, never logged or forwarded: an exception's text there may quote the data.
            var drained = process.StandardError.CopyToAsync(Stream.Null, CancellationToken.None);
            try
            {
                await using (var input = process.StandardInput)
                {
                    await input.WriteAsync(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, RunnerProtocol.Json) + "\n"), cancellationToken);
                }
            }
            catch (IOException)
            {
                // The runner ended before reading its request; its (absent) answer below says so.
            }

            var (output, tooLong) = await ComponentOutput.ReadBoundedAsync(process.StandardOutput, options.ComponentOutputMaxBytes, cancellationToken);
            if (tooLong)
            {
                await process.StopAsync(WorkspaceStopReason.Requested, CancellationToken.None);
            }

            var exit = await process.Completion.WaitAsync(cancellationToken);
            await drained.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
            if (tooLong)
            {
                FederationLog.ComponentOutputRefused(_logger, request.Component, projectId, $"more than {options.ComponentOutputMaxBytes} bytes");
                throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused, $"the component's answer is longer than this node allows ({options.ComponentOutputMaxBytes} bytes); nothing of it was released");
            }

            if (exit.ExitCode != 0 || exit.StoppedBy is not null)
            {
                FederationLog.ComponentOutputRefused(_logger, request.Component, projectId, exit.LimitHit ? $"exit {exit.ExitCode}, a resource limit was hit" : $"exit {exit.ExitCode}");
                throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused,
                    exit.LimitHit ? "the component hit its sandbox's resource limit; nothing was released" : "the component ended without an answer; nothing was released");
            }

            var policy = request.Policy.Disclosure;
            if (ComponentOutput.Read(request.Component, output, policy, out var aggregate, out var refusal, out var problem))
            {
                return aggregate!.Value;
            }

            if (refusal is not null)
            {
                throw new FederatedAnalysisRefusedException(refusal.Code, string.Join("; ", refusal.Reasons));
            }

            FederationLog.ComponentOutputRefused(_logger, request.Component, projectId, problem);
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused, $"the component's answer is not an outcome of its declared shape ({problem}); nothing of it was released");
        }
    }

    /// <summary>
    /// Starts the runner in <paramref name="projectId"/>'s sandbox for a session of requests (federated learning: one request per
    /// round over one process); the caller disposes it.
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">The sandbox could not be started (<c>SPE7056</c>).</exception>
    public async Task<ComponentSession> StartSessionAsync(string projectId, IPlaintextLease plaintext, CancellationToken cancellationToken) =>
        new(await StartAsync(projectId, plaintext, cancellationToken), _options.Value.ComponentOutputMaxBytes, projectId, _logger);

    private async Task<IWorkspaceProcess> StartAsync(string projectId, IPlaintextLease plaintext, CancellationToken cancellationToken)
    {
        var options = _options.Value;
        try
        {
            return await _runtime.StartAsync(new WorkspaceSpec
            {
                ProjectId = projectId,
                Member = Member,
                Command = Command,
                WorkingDirectory = "/tmp",
                Data = plaintext,
                Programs = [new ProgramMount(RunnerDirectory, RunnerTarget), new ProgramMount(DotnetRoot, DotnetTarget)],
                Environment = new Dictionary<string, string>
                {
                    ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                    ["DOTNET_NOLOGO"] = "1",
                    ["DOTNET_gcServer"] = "0",
                    // Note: the GC reserves address space for its heap up front; a hard limit below the sandbox's memory keeps that
                    // reservation within an RLIMIT_AS cap where no memory cgroup is available.
                    ["DOTNET_GCHeapHardLimit"] = (options.ComponentMemoryBytes / 2).ToString("x", System.Globalization.CultureInfo.InvariantCulture),
                },
                Limits = new WorkspaceLimits(options.ComponentMemoryBytes, 1.0, 128, 64L << 20, options.MaxDeadline),
            }, cancellationToken);
        }
        catch (WorkspaceStartException ex)
        {
            FederationLog.SandboxStartFailed(_logger, ex, projectId);
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentSandboxUnavailable, "the component's sandbox could not be started at this node");
        }
    }

    private (bool Available, string Reason) CheckAvailability()
    {
        if (_runtime.Availability is { IsAvailable: false } runtime)
        {
            return (false, "no workspace sandbox: " + runtime.Reason);
        }

        if (!File.Exists(Path.Combine(RunnerDirectory, RunnerAssembly)))
        {
            return (false, $"the federated components' runner is not at {RunnerDirectory} (the server's build copies it there)");
        }

        if (!File.Exists(Path.Combine(DotnetRoot, "dotnet")))
        {
            return (false, $"no dotnet executable at {DotnetRoot}, where the server's runtime is");
        }

        // Note: the sandbox runs as the project's uid, an "other" to these files: each directory on the way must let it pass, and
        // the runner's files must be readable, or every start would fail later with a less clear error.
        foreach (var directory in new[] { RunnerDirectory, DotnetRoot })
        {
            for (var current = directory; current is not null; current = Path.GetDirectoryName(current))
            {
                if ((File.GetUnixFileMode(current) & UnixFileMode.OtherExecute) == 0)
                {
                    return (false, $"{current} is closed to other users, so the project's sandbox cannot reach {directory}");
                }
            }
        }

        foreach (var file in Directory.EnumerateFiles(RunnerDirectory, "*", SearchOption.AllDirectories))
        {
            if ((File.GetUnixFileMode(file) & UnixFileMode.OtherRead) == 0)
            {
                return (false, $"{file} is not readable by other users (built with a restrictive umask?), so the project's sandbox cannot load it");
            }
        }

        return (true, "");
    }
}
