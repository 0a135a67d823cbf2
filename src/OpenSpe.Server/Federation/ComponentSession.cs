using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenSpe.Federation.Analyses;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The runner in a project's sandbox, kept for a series of requests: each exchange writes one request line and reads one answer line
/// of at most the node's output bound (<see cref="FederationOptions.ComponentOutputMaxBytes"/>). One exchange runs at a time. An
/// answer that is too long, malformed, missing or out of turn, and any stop in the middle of an exchange (a deadline, the peer gone,
/// a halt), break the session: the sandbox is stopped and every later exchange is refused with <c>SPE7057</c>. Disposing it kills
/// the sandbox.
/// </summary>
/// <remarks>
/// Used for one task (<see cref="FederatedComponentSandbox.RunAsync"/>, the row count's datasets), for the rounds of one GLM session
/// (kept by <see cref="DecryptedCopies"/> with the session's plaintext) and for a <c>Train</c> stream.
/// </remarks>
internal sealed class ComponentSession : IAsyncDisposable
{
    private const string Ended = "the component ended without an answer";

    private readonly IWorkspaceProcess _process;
    private readonly long _maxBytes;
    private readonly string _projectId;
    private readonly ILogger _logger;
    private readonly Task _drained;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;
    private volatile bool _broken;
    private int _disposed;

    public ComponentSession(IWorkspaceProcess process, long maxBytes, string projectId, ILogger logger)
    {
        _process = process;
        _maxBytes = maxBytes;
        _projectId = projectId;
        _logger = logger;
        // Note: standard error is drained and dropped, never logged or forwarded: an exception's text there may quote the data.
        _drained = process.StandardError.CopyToAsync(Stream.Null, CancellationToken.None);
    }

    /// <summary>Whether an exchange failed or was stopped, so the runner can serve no more.</summary>
    public bool IsBroken => _broken || _process.Completion.IsCompleted;

    /// <summary>Completes when the sandbox has ended (for whatever reason).</summary>
    public Task<WorkspaceExit> Exited => _process.Completion;

    /// <summary>Sends <paramref name="request"/> and returns the one outcome answered (learning: an opening, units or a refusal).</summary>
    /// <exception cref="FederatedAnalysisRefusedException">No valid answer (<c>SPE7057</c>); the sandbox is stopped.</exception>
    public async Task<RunnerOutcome> ExchangeAsync<T>(T request, string component, CancellationToken cancellationToken)
    {
        var line = await ExchangeLineAsync(request, component, cancellationToken);
        if (ComponentOutput.ReadSessionLine(line) is { } outcome)
        {
            return outcome;
        }

        throw await BreakAsync(component, "not one outcome of the protocol's shape");
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns the aggregate answered once <see cref="ComponentOutput"/> has accepted it as
    /// one of the component's declared shape under the request's policy.
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">The component refused (its code), or its answer was refused (<c>SPE7057</c>).</exception>
    public async Task<JsonElement> ExchangeAggregateAsync(RunnerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var line = await ExchangeLineAsync(request, request.Component, cancellationToken);
        return Accept(request, line);
    }

    /// <summary>
    /// Ends a runner that served one task: closes its input and requires that it says nothing more and exits 0; otherwise the whole
    /// task is refused (<c>SPE7057</c>), whatever it answered before.
    /// </summary>
    public async Task EndAsync(string component, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            await CloseInputAsync();
            var (rest, problem) = await ReadLineAsync(cancellationToken);
            if (rest is not null || problem != Ended)
            {
                throw await BreakAsync(component, rest is not null ? "more than one line" : problem!);
            }

            var exit = await ExitAsync();
            if (exit is not { ExitCode: 0, StoppedBy: null })
            {
                throw await BreakAsync(component, exit is null ? "it did not end" : ExitProblem(exit));
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// One request line out, one answer line (without its end) back, not yet read as an outcome (see <see cref="Accept"/>, and
    /// <see cref="EndAsync"/> first for a runner of one task).
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">No line within the bound (<c>SPE7057</c>); the sandbox is stopped.</exception>
    public async Task<byte[]> ExchangeLineAsync<T>(T request, string component, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (_broken)
            {
                throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused, "the component's session ended after an earlier failure; nothing was released");
            }

            // Note: the runner speaks only when asked; anything already waiting is out of turn and would be taken for the next answer.
            if (_start != _end)
            {
                throw await BreakAsync(component, "output between answers");
            }

            byte[]? line;
            string? problem;
            // Note: a stop in the middle of an exchange (halt, deadline, the peer gone) kills the sandbox at once, and the runner is
            // not asked again, because it may still answer the request it was given.
            await using (cancellationToken.UnsafeRegister(_ => Stop(), null))
            {
                try
                {
                    try
                    {
                        await _process.StandardInput.WriteAsync(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, RunnerProtocol.Json) + "\n"), cancellationToken);
                        await _process.StandardInput.FlushAsync(cancellationToken);
                    }
                    catch (IOException)
                    {
                        // The runner ended before reading its request; its missing answer below says so.
                    }

                    (line, problem) = await ReadLineAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Stop();
                    throw;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();

            if (line is not null)
            {
                return line;
            }

            if (problem == Ended && await ExitAsync() is { } exit)
            {
                problem = ExitProblem(exit);
            }

            throw await BreakAsync(component, problem!);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Reads <paramref name="line"/> as the answer to <paramref name="request"/> (<see cref="ComponentOutput.Read"/>).</summary>
    public JsonElement Accept(RunnerRequest request, ReadOnlySpan<byte> line)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ComponentOutput.Read(request.Component, line, request.Policy.Disclosure, out var aggregate, out var refusal, out var problem))
        {
            return aggregate!.Value;
        }

        if (refusal is not null)
        {
            throw new FederatedAnalysisRefusedException(refusal.Code, string.Join("; ", refusal.Reasons));
        }

        FederationLog.ComponentOutputRefused(_logger, request.Component, _projectId, problem);
        throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused, $"the component's answer is not an outcome of its declared shape ({problem}); nothing of it was released");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _broken = true;
        await CloseInputAsync();
        await _process.DisposeAsync();
        await _drained.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private void Stop()
    {
        _broken = true;
        _ = _process.StopAsync(WorkspaceStopReason.Requested, CancellationToken.None);
    }

    private async Task<FederatedAnalysisRefusedException> BreakAsync(string component, string problem)
    {
        _broken = true;
        await _process.StopAsync(WorkspaceStopReason.Requested, CancellationToken.None);
        FederationLog.ComponentOutputRefused(_logger, component, _projectId, problem);
        return new FederatedAnalysisRefusedException(ErrorCodes.FederatedComponentOutputRefused,
            problem.Contains("resource limit", StringComparison.Ordinal)
                ? "the component hit its sandbox's resource limit; nothing was released"
                : $"the component's answer was refused ({problem}); nothing of it was released");
    }

    /// <summary>How the runner ended, once its output has closed; null when it does not end soon after.</summary>
    private async Task<WorkspaceExit?> ExitAsync()
    {
        try
        {
            return await _process.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static string ExitProblem(WorkspaceExit exit) =>
        exit.LimitHit ? $"exit {exit.ExitCode}, a resource limit was hit" : exit.StoppedBy is { } stopped ? $"stopped ({stopped})" : $"{Ended}, exit {exit.ExitCode}";

    private async Task CloseInputAsync()
    {
        try
        {
            await _process.StandardInput.DisposeAsync();
        }
        catch (IOException)
        {
            // The runner ended already.
        }
    }

    /// <summary>One line of at most the bound, or the problem (<see cref="Ended"/> at the end of the output).</summary>
    private async Task<(byte[]? Line, string? Problem)> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = 0;
                var read = await _process.StandardOutput.ReadAsync(_buffer, cancellationToken);
                if (read == 0)
                {
                    return (null, line.Length == 0 ? Ended : "an answer without its line end");
                }

                _end = read;
            }

            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var take = (newline < 0 ? _end : newline) - _start;
            if (line.Length + take > _maxBytes)
            {
                // Note: what came so far is dropped, not truncated and parsed: a cut answer is no answer.
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
