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
    private readonly Lazy<RunnerManifest?> _manifest = new(RunnerManifest.Embedded);
    private readonly List<ComponentSession> _sessions = [];
    private long _started;

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

    /// <summary>Runners started in a sandbox since this node started.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Runners whose sandbox still runs now (kept for a session's next round, or busy).</summary>
    public int Running
    {
        get
        {
            lock (_sessions)
            {
                _sessions.RemoveAll(s => s.Exited.IsCompleted);
                return _sessions.Count;
            }
        }
    }

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
    /// <remarks>
    /// Note: the lease holds every dataset the project's permit names now, of which the admitted task's <paramref name="datasets"/>
    /// are some, because the project's staging is one directory shared by its jobs, terminals and analyses and keyed on the
    /// permit's list: a narrower list would withdraw the others from a running job.
    /// </remarks>
    public async Task<IPlaintextLease> StageAsync(string projectId, IReadOnlyCollection<string> datasets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        await using var scope = _scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DatasetStager>().LeaseAsync(_staging, projectId, cancellationToken);
    }

    /// <summary>
    /// Starts the runner in <paramref name="projectId"/>'s sandbox on <paramref name="plaintext"/> for one request, and returns the
    /// aggregate it answers once the runner has ended cleanly (nothing more said, exit 0) and <see cref="ComponentOutput"/> has
    /// accepted the answer.
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">The component refused, or its answer was refused; nothing of it leaves.</exception>
    public async Task<JsonElement> RunAsync(string projectId, IPlaintextLease plaintext, RunnerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var session = await StartSessionAsync(projectId, plaintext, cancellationToken);
        var line = await session.ExchangeLineAsync(request, request.Component, cancellationToken);
        // Note: the answer is read only once the runner has ended without saying more, so a second line cannot hide behind the first.
        await session.EndAsync(request.Component, cancellationToken);
        return session.Accept(request, line);
    }

    /// <summary>
    /// Starts the runner in <paramref name="projectId"/>'s sandbox for a series of requests (a GLM session's rounds, the row
    /// count's datasets, a <c>Train</c> stream); the caller disposes it.
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">
    /// The runner's files differ from the build's (<c>SPE7058</c>), or the sandbox could not be started (<c>SPE7056</c>).
    /// </exception>
    public async Task<ComponentSession> StartSessionAsync(string projectId, IPlaintextLease plaintext, CancellationToken cancellationToken)
    {
        var session = new ComponentSession(await StartAsync(projectId, plaintext, cancellationToken), _options.Value.ComponentOutputMaxBytes, projectId, _logger);
        lock (_sessions)
        {
            _sessions.RemoveAll(s => s.Exited.IsCompleted);
            _sessions.Add(session);
        }

        return session;
    }

    private async Task<IWorkspaceProcess> StartAsync(string projectId, IPlaintextLease plaintext, CancellationToken cancellationToken)
    {
        EnsureRunnerIntact();
        var options = _options.Value;
        try
        {
            var process = await _runtime.StartAsync(new WorkspaceSpec
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
            Interlocked.Increment(ref _started);
            return process;
        }
        catch (WorkspaceStartException ex)
        {
            FederationLog.SandboxStartFailed(_logger, ex, projectId);
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentSandboxUnavailable, "the component's sandbox could not be started at this node");
        }
    }

    /// <summary>Refuses with <c>SPE7058</c> unless the runner's directory holds exactly the files the build wrote down, unchanged.</summary>
    private void EnsureRunnerIntact()
    {
        // Note: checked before every start, right before the directory is mounted, because a file changed after the build must
        // never run, whenever it was changed; hashing the runner costs about 0.1 s of CPU against the start's 0.5 s or more.
        string? problem;
        try
        {
            problem = _manifest.Value is { } manifest ? manifest.Verify(RunnerDirectory) : "the server was built without the runner's manifest";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = "the runner's files cannot be read: " + ex.GetType().Name;
        }

        if (problem is not null)
        {
            FederationLog.RunnerChanged(_logger, RunnerDirectory, problem);
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentRunnerChanged, "this node's component runner is not the one it was built with; nothing was run");
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
