using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenSpe.Federation.Analyses;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Federation;

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
