using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A node-side analysis of the analyses library (<c>openspe.glm</c>, <c>openspe.omop-cohort-count</c>) run in the project's sandbox
/// (FSPER-4, FCR-5): the permit's datasets held here are staged as the project's plaintext (memory-backed, readable by the project's
/// identity only, one lease per analysis session shared by its rounds: <see cref="DecryptedCopies"/>), the runner
/// (<c>OpenSpe.Federation.Runner</c>) starts in the project's sandbox through <see cref="IWorkspaceRuntime"/> with the request on its
/// standard input, and only its answer, read by <see cref="ComponentOutput"/> (bounded, one outcome of the declared shape, the
/// count threshold checked again), leaves; a refusal becomes <see cref="FederatedAnalysisRefusedException"/> (code and reasons, no numbers).
/// </summary>
/// <remarks>
/// Note: no sandbox, no analysis: a node that cannot run sandboxes refuses with <c>SPE7056</c> rather than run the component in
/// its own process, because the server process holds the project keys and the vault, which no component may ever reach.
/// </remarks>
internal sealed class SandboxedAnalysis(string component, FederatedComponentSandbox sandbox, DecryptedCopies copies) : IFederatedAnalysis
{
    /// <inheritdoc />
    public string Component => component;

    /// <inheritdoc />
    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        sandbox.EnsureAvailable();
        var lease = await copies.AcquireStagedAsync(context.Session is null ? null : $"{Component}\n{context.ProjectId}\n{context.Session}", context.ProjectId,
            token => sandbox.StageAsync(context.ProjectId, context.Datasets, token), cancellationToken);
        var failed = true;
        try
        {
            var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(context.Permit.Document.Policies?.Airlock) };
            var request = new RunnerRequest { Component = Component, Parameters = context.Parameters, Datasets = context.Datasets, Policy = policy };
            var result = await sandbox.RunAsync(context.ProjectId, lease.Plaintext, request, cancellationToken);
            failed = false;
            return result;
        }
        finally
        {
            lease.Release(failed);
        }
    }

    /// <summary>One server component per analysis of the library run in the sandbox (those of <see cref="FederatedAnalyses.BuiltIn"/>).</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = [GlmNodeAnalysis.ComponentName, CohortCountNodeAnalysis.ComponentName];
}

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

/// <summary>
/// Reads a federated component's answer: at most a bounded number of bytes, one JSON line holding exactly one of
/// <c>{"aggregate": {...}}</c> (of the component's declared shape, re-serialized from the parsed value so nothing undeclared
/// travels) or <c>{"refused": {"code": "SPE7052", "reasons": [...]}}</c>. Anything else is refused.
/// </summary>
internal static class ComponentOutput
{
    private const int MaxReasons = 32;
    private const int MaxReasonLength = 500;

    /// <summary>Reads <paramref name="stream"/> to its end, keeping at most <paramref name="maxBytes"/>; says whether there was more.</summary>
    public static async Task<(byte[] Bytes, bool TooLong)> ReadBoundedAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (kept.Length + read > maxBytes)
            {
                // Note: what came so far is dropped, not truncated and parsed: a cut answer is no answer.
                return ([], true);
            }

            kept.Write(buffer, 0, read);
        }

        return (kept.ToArray(), false);
    }

    /// <summary>
    /// Parses <paramref name="output"/> as <paramref name="component"/>'s answer under <paramref name="policy"/>: true with the
    /// aggregate; false with the component's own refusal, or with <paramref name="problem"/> when the answer is refused.
    /// </summary>
    public static bool Read(string component, ReadOnlySpan<byte> output, OpenSpe.Disclosure.DisclosurePolicy policy,
        out JsonElement? aggregate, out RunnerRefusal? refusal, out string problem)
    {
        ArgumentNullException.ThrowIfNull(policy);
        aggregate = null;
        refusal = null;
        problem = "";
        var text = output;
        if (text.Length > 0 && text[^1] == (byte)'\n')
        {
            text = text[..^1];
        }

        if (text.Length == 0 || text.Contains((byte)'\n'))
        {
            problem = text.Length == 0 ? "no answer" : "more than one line";
            return false;
        }

        RunnerOutcome? outcome;
        try
        {
            outcome = JsonSerializer.Deserialize<RunnerOutcome>(text, RunnerProtocol.Json);
        }
        catch (JsonException)
        {
            problem = "not JSON of the outcome's shape";
            return false;
        }

        if (outcome is null || outcome.Opened is not null || outcome.Units is not null || (outcome.Aggregate is null) == (outcome.Refused is null))
        {
            problem = "not exactly one of an aggregate or a refusal";
            return false;
        }

        if (outcome.Refused is { } refused)
        {
            if (!IsRefusal(refused))
            {
                problem = "a refusal without a code and short reasons";
                return false;
            }

            refusal = refused;
            return false;
        }

        var released = component switch
        {
            GlmNodeAnalysis.ComponentName => Glm(outcome.Aggregate!.Value, out problem),
            CohortCountNodeAnalysis.ComponentName => Counts(outcome.Aggregate!.Value, policy, out problem),
            _ => Unknown(out problem),
        };
        aggregate = released;
        return released is not null;
    }

    private static JsonElement? Glm(JsonElement value, out string problem)
    {
        var contribution = Parse<GlmContribution>(value, out problem);
        if (contribution is null)
        {
            return null;
        }

        var p = contribution.Columns.Count;
        if (p is 0 or > 1000 || contribution.Score.Count != p || contribution.Information.Count != p || contribution.Information.Any(r => r.Count != p)
            || !contribution.Score.All(double.IsFinite) || !contribution.Information.All(r => r.All(double.IsFinite))
            || !double.IsFinite(contribution.Deviance) || !double.IsFinite(contribution.PearsonChiSquare) || contribution.NValid < 0 || contribution.NMissing < 0)
        {
            problem = "a GLM contribution whose sizes or numbers do not fit its columns";
            return null;
        }

        return JsonSerializer.SerializeToElement(contribution, RunnerProtocol.Json);
    }

    private static JsonElement? Counts(JsonElement value, OpenSpe.Disclosure.DisclosurePolicy policy, out string problem)
    {
        var counts = Parse<CohortCountAggregate>(value, out problem);
        if (counts is null)
        {
            return null;
        }

        // Note: the threshold is checked again here, outside the sandbox, so a count below it cannot leave even if the component
        // forgot or was changed to forget it.
        if (counts.Threshold != policy.Threshold || counts.Cells.Any(c => c is null
            || (c.Suppressed ? c.Count is not null : c.Count is not { } n || n < 0 || (n < policy.Threshold && !(n == 0 && policy.ZerosAllowed)))))
        {
            problem = "a cohort count that releases a count below the node's threshold or suppresses inconsistently";
            return null;
        }

        return JsonSerializer.SerializeToElement(counts, RunnerProtocol.Json);
    }

    private static JsonElement? Unknown(out string problem)
    {
        problem = "a component without a declared aggregate";
        return null;
    }

    private static T? Parse<T>(JsonElement value, out string problem)
        where T : class
    {
        problem = "";
        try
        {
            var parsed = value.Deserialize<T>(RunnerProtocol.Json);
            if (parsed is null)
            {
                problem = "an empty aggregate";
            }

            return parsed;
        }
        catch (JsonException)
        {
            problem = "an aggregate not of the component's declared shape";
            return null;
        }
    }

    /// <summary>Parses one line of a session (<see cref="ComponentSession"/>): exactly one member set; a refusal well formed. Null when not.</summary>
    public static RunnerOutcome? ReadSessionLine(ReadOnlySpan<byte> line)
    {
        RunnerOutcome? outcome;
        try
        {
            outcome = JsonSerializer.Deserialize<RunnerOutcome>(line, RunnerProtocol.Json);
        }
        catch (JsonException)
        {
            return null;
        }

        var set = outcome is null ? 0 : new object?[] { outcome.Aggregate, outcome.Refused, outcome.Opened, outcome.Units }.Count(m => m is not null);
        return set == 1 && (outcome!.Refused is null || IsRefusal(outcome.Refused)) ? outcome : null;
    }

    private static bool IsRefusal(RunnerRefusal refused) =>
        IsCode(refused.Code) && refused.Reasons is { Count: > 0 and <= MaxReasons } && refused.Reasons.All(r => r is not null && r.Length <= MaxReasonLength);

    private static bool IsCode(string code) => code is { Length: 7 } && code.StartsWith("SPE", StringComparison.Ordinal) && code[3..].All(char.IsAsciiDigit);
}

/// <summary>
/// A runner kept for a session of requests (a <c>Train</c> stream): each exchange writes one request line and reads one answer line
/// of at most the node's output bound; an answer that is too long, malformed or missing ends the session with <c>SPE7057</c>.
/// Disposing it kills the sandbox.
/// </summary>
internal sealed class ComponentSession : IAsyncDisposable
{
    private readonly IWorkspaceProcess _process;
    private readonly long _maxBytes;
    private readonly string _projectId;
    private readonly ILogger _logger;
    private readonly Task _drained;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public ComponentSession(IWorkspaceProcess process, long maxBytes, string projectId, ILogger logger)
    {
        _process = process;
        _maxBytes = maxBytes;
        _projectId = projectId;
        _logger = logger;
        // Note: standard error is drained and dropped, never logged or forwarded: an exception's text there may quote the data.
        _drained = process.StandardError.CopyToAsync(Stream.Null, CancellationToken.None);
    }

    /// <summary>Sends <paramref name="request"/> and returns the one outcome answered.</summary>
    /// <exception cref="FederatedAnalysisRefusedException">No valid answer (<c>SPE7057</c>); the sandbox is stopped.</exception>
    public async Task<RunnerOutcome> ExchangeAsync<T>(T request, CancellationToken cancellationToken)
    {
        try
        {
            await _process.StandardInput.WriteAsync(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, RunnerProtocol.Json) + "\n"), cancellationToken);
            await _process.StandardInput.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            // The runner ended; the missing answer below says so.
        }

        var (line, problem) = await ReadLineAsync(cancellationToken);
        if (line is not null && ComponentOutput.ReadSessionLine(line) is { } outcome)
        {
            return outcome;
        }

        await _process.StopAsync(WorkspaceStopReason.Requested, CancellationToken.None);
        problem ??= "not one outcome of the protocol's shape";
        FederationLog.ComponentOutputRefused(_logger, RunnerProtocol.LearningComponent, _projectId, problem);
        throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused, $"the component's answer was refused ({problem}); nothing of it was released");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.DisposeAsync();
        }
        catch (IOException)
        {
        }

        await _process.DisposeAsync();
        await _drained.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task<(byte[]? Line, string? Problem)> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _process.StandardOutput.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    return (null, "the component ended without an answer");
                }
            }

            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var take = (newline < 0 ? _end : newline) - _start;
            if (line.Length + take > _maxBytes)
            {
                return (null, $"more than {_maxBytes} bytes");
            }

            line.Write(_buffer, _start, take);
            _start += take;
            if (newline >= 0)
            {
                _start++;
                return (line.ToArray(), null);
            }
        }
    }
}
