using System.Net;
using System.Text.Json;

namespace OpenSpe.Cli.Client;

/// <summary>
/// Runs a federated analysis at the coordinating SPE asking for progress lines, and shows each node's answer on standard error
/// as it comes (<c>  node node-b: round 3 ok</c>); returns the result, or throws the problem the last line carries, as any
/// other refusal of the API.
/// </summary>
internal static class FederatedProgressReader
{
    /// <summary>Posts <paramref name="body"/> to <paramref name="path"/> and reads the answer's lines.</summary>
    public static async Task<JsonElement> RunAsync(SpeApiClient api, string path, object body, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(progress);
        using var response = await api.PostForLinesAsync(path, body, cancellationToken);
        if (response.Content.Headers.ContentType?.MediaType != SpeApiClient.NdjsonMediaType)
        {
            // A server that answers the one JSON document (no node answered before it stopped).
            using var whole = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return whole.RootElement.Clone();
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            JsonElement item;
            try
            {
                using var document = JsonDocument.Parse(line);
                item = document.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new SpeClientException($"the server's progress line to /{path} is not JSON", ex);
            }

            switch (item.TryGetProperty("event", out var kind) ? kind.GetString() : null)
            {
                case "node":
                    var code = item.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? $" {c.GetString()}" : "";
                    var round = item.GetProperty("round").GetInt32();
                    await progress.WriteLineAsync($"  node {item.GetProperty("node").GetString()}: {(round == 0 ? "" : $"round {round} ")}{item.GetProperty("status").GetString()}{code}");
                    await progress.FlushAsync(cancellationToken);
                    break;
                case "result":
                    return item.GetProperty("result");
                case "problem":
                    var problem = item.GetProperty("problem");
                    var status = problem.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number ? (HttpStatusCode)s.GetInt32() : HttpStatusCode.UnprocessableEntity;
                    throw ProblemText.FromBody(problem.GetRawText(), status, null);
                default:
                    throw new SpeClientException($"the server's progress line to /{path} is of no known kind");
            }
        }

        throw new SpeClientException($"the server's answer to /{path} ended before its result");
    }
}
