using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Federation.Analyses;

/// <summary>
/// The runner's wire format, one JSON object per line each way. The server writes a <see cref="RunnerRequest"/>; the runner
/// answers exactly one <see cref="RunnerOutcome"/> per request (program <c>OpenSpe.Federation.Runner</c>, run in the project's sandbox): <c>{"aggregate": {...}}</c> or
/// <c>{"refused": {"code": "SPE7052", "reasons": ["..."]}}</c>. The server's reader accepts nothing else and checks the aggregate against the component's declared shape.
/// </summary>
public static class RunnerProtocol
{
    /// <summary>The longest request line the runner reads (parameters are a formula and β, far below this).</summary>
    public const int MaxRequestBytes = 1 << 20;

    /// <summary>
    /// The learning component: its first request opens a session (answered <c>{"opened": {...}}</c>), then each
    /// <see cref="RunnerRound"/> line is answered <c>{"units": [...]}</c> (the clipped update, no noise) until standard input closes.
    /// </summary>
    public const string LearningComponent = "openspe.fedavg-logistic";

    /// <summary>camelCase, unknown members refused, numbers strict, nulls left out.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
        AllowDuplicateProperties = false,
    };

    /// <summary>Serializes an outcome as one line.</summary>
    public static string Write(RunnerOutcome outcome) => JsonSerializer.Serialize(outcome, Json);

    /// <summary>
    /// Reads one line (without its end) of at most <paramref name="maxBytes"/> bytes from <paramref name="stream"/>; null at the
    /// end of the stream. A longer line throws <see cref="InvalidDataException"/>: nothing is kept of it.
    /// </summary>
    public static async Task<string?> ReadLineAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new MemoryStream();
        var one = new byte[1];
        while (true)
        {
            var read = await stream.ReadAsync(one, cancellationToken);
            if (read == 0)
            {
                return buffer.Length == 0 ? null : Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            }

            if (one[0] == (byte)'\n')
            {
                return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            }

            if (buffer.Length >= maxBytes)
            {
                throw new InvalidDataException($"a line is longer than {maxBytes} bytes");
            }

            buffer.WriteByte(one[0]);
        }
    }
}

/// <summary>One analysis to run: the component, its parameters, the datasets of the permit held here, and the node's policy.</summary>
public sealed record RunnerRequest
{
    /// <summary>The component name (<c>openspe.glm</c>, <c>openspe.omop-cohort-count</c>).</summary>
    public required string Component { get; init; }

    /// <summary>The task's parameters (a JSON object).</summary>
    public required JsonElement Parameters { get; init; }

    /// <summary>The permit's datasets this node holds; their files are under <c>/data/&lt;dataset&gt;/</c>.</summary>
    public required IReadOnlyList<string> Datasets { get; init; }

    /// <summary>The node's disclosure policy (never the requester's).</summary>
    public required NodePolicy Policy { get; init; }
}

/// <summary>Exactly one of an aggregate, a refusal, a learning session's opening or a learning round's units.</summary>
public sealed record RunnerOutcome
{
    /// <summary>The aggregate the component releases.</summary>
    public JsonElement? Aggregate { get; init; }

    /// <summary>The refusal (code and data-free reasons).</summary>
    public RunnerRefusal? Refused { get; init; }

    /// <summary>A learning session opened: the model's columns and the node's complete rows.</summary>
    public RunnerOpened? Opened { get; init; }

    /// <summary>A learning round's clipped integer update (no noise: the node adds it outside the sandbox).</summary>
    public IReadOnlyList<long>? Units { get; init; }

    /// <summary>A refusal.</summary>
    public static RunnerOutcome Refusal(string code, params IReadOnlyList<string> reasons) => new() { Refused = new RunnerRefusal(code, reasons) };
}

/// <summary>A learning session's opening.</summary>
/// <param name="Columns">The model's columns, as R names them.</param>
/// <param name="Rows">The node's complete rows.</param>
public sealed record RunnerOpened(IReadOnlyList<string> Columns, int Rows);

/// <summary>One learning round: its number and the global parameters.</summary>
/// <param name="Round">The round, from 1.</param>
/// <param name="Parameters">The global parameters, one per column.</param>
public sealed record RunnerRound(int Round, IReadOnlyList<double> Parameters);

/// <summary>A refusal's code and reasons.</summary>
/// <param name="Code">The stable SPE code.</param>
/// <param name="Reasons">The reasons (rules and column names, never values).</param>
public sealed record RunnerRefusal(string Code, IReadOnlyList<string> Reasons);
