using System.Text;
using System.Text.Json;

namespace OpenSpe.Cli.Client;

/// <summary>What the permit, project and halt verbs share: answers kept as the server sent them (for <c>--json</c>), the permit file, and cell formatting.</summary>
internal static class PermitClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Sends a request and returns the answer both as the server's JSON (printed as is by <c>--json</c>, so no field is lost) and as <typeparamref name="T"/> for the tables.</summary>
    public static async Task<(JsonElement Raw, T Value)> CallAsync<T>(this SpeApiClient api, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        using var response = await api.SendAsync(method, path, body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            var raw = document.RootElement.Clone();
            var value = raw.Deserialize<T>(Json) ?? throw new JsonException("null");
            return (raw, value);
        }
        catch (JsonException ex)
        {
            throw new SpeClientException($"the server's answer to {method} /{path} is not the expected JSON: {ProblemText.OneLine(ex.Message)}", ex);
        }
    }

    /// <summary>
    /// Reads a permit document from <paramref name="path"/> (<c>-</c>: standard input). It is sent as written — the server
    /// validates every field — but it must be a JSON object, so that a wrong file fails here with its line number.
    /// </summary>
    public static JsonElement ReadPermitFile(string path, IUserInput input)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(input);
        string text;
        var name = path == "-" ? "standard input" : $"'{path}'";
        if (path == "-")
        {
            var lines = new StringBuilder();
            while (input.ReadLine() is { } line)
            {
                lines.Append(line).Append('\n');
            }

            text = lines.ToString();
        }
        else
        {
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new SpeClientException($"cannot read the permit file {name}: it does not exist", ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                throw new SpeClientException($"cannot read the permit file {name}: {ProblemText.OneLine(ex.Message)}", ex);
            }
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new SpeClientException($"the permit file {name} is empty");
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SpeClientException($"the permit file {name} must hold one JSON object (see docs/permit-format.md), not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }

            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "";
            throw new SpeClientException($"the permit file {name} is not valid JSON{where}", ex);
        }
    }

    /// <summary>A required free-text option (a reason) that must not be blank.</summary>
    public static string NotBlank(string? value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new SpeUsageException($"{option} must not be empty") : value.Trim();

    /// <summary>A time in a table or field list (<c>--json</c> keeps the server's form).</summary>
    public static string? Time(DateTimeOffset? time) => Output.TimeText.ForPeople(time);

    /// <summary>Ids go into the path escaped, so "a/b" or "../x" stays one segment.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);
}
