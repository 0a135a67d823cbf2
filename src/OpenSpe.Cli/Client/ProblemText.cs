using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Cli.Client;

/// <summary>An RFC 9457 problem as the SPE API writes it.</summary>
internal sealed record ApiProblem(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("traceId")] string? TraceId,
    [property: JsonPropertyName("errors")] IReadOnlyDictionary<string, string[]>? Errors);

/// <summary>An API call the server refused; <see cref="Exception.Message"/> is the rendered problem.</summary>
internal sealed class ApiProblemException : SpeClientException
{
    public ApiProblemException()
    {
    }

    public ApiProblemException(string message)
        : base(message)
    {
    }

    public ApiProblemException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ApiProblemException(HttpStatusCode status, ApiProblem? problem, string message)
        : base(message)
    {
        Status = status;
        Problem = problem;
    }

    public HttpStatusCode Status { get; }

    public ApiProblem? Problem { get; }
}

/// <summary>Turns error answers into the one line the CLI prints after <c>spe: </c>.</summary>
internal static class ProblemText
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary><c>detail [field: error; ...] (code, trace id)</c>; whatever the server left out is left out.</summary>
    public static string Render(ApiProblem problem, HttpStatusCode status, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var head = problem.Detail is { Length: > 0 } detail ? detail
            : problem.Title is { Length: > 0 } title ? title
            : StatusText(status, reason);
        var text = new StringBuilder();
        if (problem.Errors is { Count: > 0 } errors)
        {
            // Each part is a sentence of its own on the server; joined into one line they lose their full stops, except the last.
            text.Append(Clause(head)).Append(": ").AppendJoin("; ", errors.OrderBy(e => e.Key, StringComparer.Ordinal)
                .Select(e => $"{e.Key}: {string.Join(", ", (e.Value ?? []).Select(Clause))}"));
        }
        else
        {
            text.Append(head);
        }

        var tags = new[] { problem.Code, problem.TraceId is { Length: > 0 } trace ? "trace " + trace : null }.Where(t => !string.IsNullOrEmpty(t)).ToList();
        if (tags.Count > 0)
        {
            text.Append(" (").AppendJoin(", ", tags).Append(')');
        }

        return OneLine(text.ToString());
    }

    /// <summary>The exception for an error answer: a rendered problem when the body is one, else the status line.</summary>
    public static ApiProblemException FromBody(string body, HttpStatusCode status, string? reason)
    {
        ApiProblem? problem = null;
        if (body.TrimStart().StartsWith('{'))
        {
            try
            {
                problem = JsonSerializer.Deserialize<ApiProblem>(body, Json);
            }
            catch (JsonException)
            {
                // A proxy's or a broken server's body: report the status instead.
            }
        }

        return problem is not null && (problem.Detail is { Length: > 0 } || problem.Title is { Length: > 0 } || problem.Code is { Length: > 0 })
            ? new ApiProblemException(status, problem, Render(problem, status, reason))
            : new ApiProblemException(status, null, StatusText(status, reason));
    }

    public static async Task<ApiProblemException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        return FromBody(await response.Content.ReadAsStringAsync(cancellationToken), response.StatusCode, response.ReasonPhrase);
    }

    /// <summary>
    /// One line, with control characters escaped: the text comes from the server and must not be able
    /// to drive the terminal or forge extra output lines.
    /// </summary>
    public static string OneLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.Trim())
        {
            builder.Append(c switch
            {
                '\r' or '\n' or '\t' => " ",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>
    /// <paramref name="text"/> as one line without its closing full stop, to be followed by <c>": "</c>, <c>"; "</c> or
    /// <c>", "</c> (so two messages never join as <c>".: "</c>); an ellipsis is kept.
    /// </summary>
    public static string Clause(string text)
    {
        var line = OneLine(text ?? "");
        while (line.EndsWith('.') && !line.EndsWith("..", StringComparison.Ordinal))
        {
            line = line[..^1].TrimEnd();
        }

        return line;
    }

    private static string StatusText(HttpStatusCode status, string? reason) =>
        $"the server answered {(int)status} {(string.IsNullOrEmpty(reason) ? status.ToString() : reason)}";
}
