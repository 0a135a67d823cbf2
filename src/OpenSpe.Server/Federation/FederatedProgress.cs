using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using OpenSpe.Server.Api;
using Library = OpenSpe.Federation.Analyses;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Per-node status while a federated analysis runs (#15 item 6), for a client that asks for <c>application/x-ndjson</c>: one
/// line per node answer (<c>{"event":"node","node","round","status","code"?}</c>) as it comes, then one last line with the
/// result (<c>{"event":"result","result":…}</c>) or the problem (<c>{"event":"problem","problem":…}</c>). A client that asks
/// for JSON gets the one answer as before.
/// </summary>
/// <remarks>
/// Note: a refusal found before any node answered (malformed request, the caller not named in the permit) is still answered
/// with its own status code, because no line has been sent yet; once the first line is out the status is 200 and the
/// outcome is in the last line.
/// </remarks>
internal sealed class FederatedProgress : IDisposable
{
    /// <summary>The media type of the lines.</summary>
    public const string MediaType = "application/x-ndjson";

    private readonly HttpContext _context;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _started;

    private FederatedProgress(HttpContext context) => _context = context;

    /// <summary>The progress writer when the caller asked for lines; null otherwise.</summary>
    public static FederatedProgress? For(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var accepts = context.Request.GetTypedHeaders().Accept;
        if (!accepts.Any(a => a.MediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var progress = new FederatedProgress(context);
        context.Response.RegisterForDispose(progress);
        return progress;
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <summary>Wraps the nodes of an analysis so each answer is reported as it comes.</summary>
    public IReadOnlyList<Library.IFederatedNode> Observe(IReadOnlyList<Library.IFederatedNode> nodes) => [.. nodes.Select(n => new ReportingNode(n, this))];

    /// <summary>Writes one node's answer.</summary>
    public Task NodeAsync(string node, int round, string status, string? code) =>
        WriteAsync(new { @event = "node", node, round, status, code });

    /// <summary>Writes the outcome as the last line, or, when no line went out yet, lets the outcome answer as it is.</summary>
    public async Task<IResult> FinishAsync(IResult outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (!_started && outcome is ProblemHttpResult)
        {
            return outcome;
        }

        object line = outcome switch
        {
            Ok<JsonElement> ok => new { @event = "result", result = ok.Value },
            ProblemHttpResult problem => new { @event = "problem", problem = ProblemJson(problem) },
            _ => throw new InvalidOperationException("a federated analysis answers its result or a problem"),
        };
        await WriteAsync(line);
        return TypedResults.Empty;
    }

    private Dictionary<string, object?> ProblemJson(ProblemHttpResult result)
    {
        var problem = result.ProblemDetails;
        var json = new Dictionary<string, object?>
        {
            ["type"] = problem.Type,
            ["title"] = problem.Title,
            ["status"] = problem.Status,
            ["detail"] = problem.Detail,
        };
        foreach (var (key, value) in problem.Extensions)
        {
            json[key] = value;
        }

        json["traceId"] = TraceIds.Current(_context);
        return json;
    }

    private async Task WriteAsync(object line)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, JsonSerializerOptions.Web);
        // Note: nodes answer in parallel, so lines are written one at a time and never interleave.
        await _gate.WaitAsync(_context.RequestAborted);
        try
        {
            if (!_started)
            {
                _started = true;
                _context.Response.StatusCode = StatusCodes.Status200OK;
                _context.Response.ContentType = MediaType;
                _context.Response.Headers[HeaderNames.CacheControl] = "no-store";
            }

            await _context.Response.Body.WriteAsync(bytes, _context.RequestAborted);
            await _context.Response.Body.WriteAsync("\n"u8.ToArray(), _context.RequestAborted);
            await _context.Response.Body.FlushAsync(_context.RequestAborted);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A node whose every answer is reported (its round counted from 1).</summary>
    private sealed class ReportingNode(Library.IFederatedNode inner, FederatedProgress progress) : Library.IFederatedNode
    {
        private int _round;

        public string Name => inner.Name;

        public async Task<Library.AnalysisOutcome> RunAsync(string component, string parametersJson, CancellationToken cancellationToken)
        {
            var outcome = await inner.RunAsync(component, parametersJson, cancellationToken);
            await progress.NodeAsync(inner.Name, Interlocked.Increment(ref _round), outcome.Refusal is null ? "ok" : "refused", outcome.Refusal?.Code);
            return outcome;
        }
    }
}
