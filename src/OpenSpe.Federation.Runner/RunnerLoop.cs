using System.Text;
using System.Text.Json;
using OpenSpe.Contracts;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Learning;

namespace OpenSpe.Federation.Runner;

/// <summary>
/// Reads requests (one JSON line each, <see cref="RunnerRequest"/>) and answers each with one JSON line
/// (<see cref="RunnerOutcome"/>) until standard input closes. The analyses are the library's built-in ones
/// (<see cref="FederatedAnalyses.BuiltIn"/>); each runs on a flat view of the request's datasets under <c>/data</c>.
/// </summary>
internal static class RunnerLoop
{
    /// <summary>Where the sandbox mounts the project's staged plaintext (read-only).</summary>
    public const string DataRoot = "/data";

    /// <summary>Exit code when a request could not be read at all (too long, not JSON of the request's shape).</summary>
    public const int BadRequest = 2;

    private static int views;

    /// <summary>Serves requests from <paramref name="input"/> until it ends; 0, or <see cref="BadRequest"/>.</summary>
    public static async Task<int> RunAsync(Stream input, Stream output, string dataRoot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var analyses = FederatedAnalyses.BuiltIn();
        while (await RunnerProtocol.ReadLineAsync(input, RunnerProtocol.MaxRequestBytes, cancellationToken) is { } line)
        {
            RunnerRequest? request;
            try
            {
                request = JsonSerializer.Deserialize<RunnerRequest>(line, RunnerProtocol.Json);
            }
            catch (JsonException)
            {
                request = null;
            }

            if (request is null)
            {
                return BadRequest;
            }

            if (request.Component == RunnerProtocol.LearningComponent)
            {
                return await LearnAsync(input, output, request, dataRoot, cancellationToken);
            }

            await WriteAsync(output, await RunOneAsync(analyses, request, dataRoot, cancellationToken), cancellationToken);
        }

        return 0;
    }

    /// <summary>
    /// A learning session: opens the local step on the request's datasets, then answers each round with its clipped units until
    /// the input ends. The noise and the privacy ledger are the node's, outside the sandbox.
    /// </summary>
    private static async Task<int> LearnAsync(Stream input, Stream output, RunnerRequest request, string dataRoot, CancellationToken cancellationToken)
    {
        var view = Path.Combine(Path.GetTempPath(), $"openspe-view-{Environment.ProcessId}-learning");
        try
        {
            if (FlatView(dataRoot, request.Datasets, view) is { } refusal)
            {
                await WriteAsync(output, refusal, cancellationToken);
                return 0;
            }

            var spec = FedAvgSpecification.FromJson(request.Parameters.GetRawText(), out var error);
            // Note: the node's noise rule is enforced by the node's session outside the sandbox; here only the local step runs.
            var (step, code, reason) = spec is null
                ? (null, FederationAnalysisCodes.InvalidParameters, error)
                : FedAvgLocalStep.Open(spec, view, request.Policy, new LearningNodeSettings { RequireNoise = false });
            if (step is null)
            {
                await WriteAsync(output, RunnerOutcome.Refusal(code!, reason!), cancellationToken);
                return 0;
            }

            await WriteAsync(output, new RunnerOutcome { Opened = new RunnerOpened(step.Columns, step.Rows) }, cancellationToken);
            while (await RunnerProtocol.ReadLineAsync(input, RunnerProtocol.MaxRequestBytes, cancellationToken) is { } line)
            {
                RunnerRound? round;
                try
                {
                    round = JsonSerializer.Deserialize<RunnerRound>(line, RunnerProtocol.Json);
                }
                catch (JsonException)
                {
                    round = null;
                }

                if (round?.Parameters is null)
                {
                    return BadRequest;
                }

                var units = await step.ClippedUnitsAsync(round.Round, round.Parameters, cancellationToken);
                await WriteAsync(output, units.IsRefused ? RunnerOutcome.Refusal(units.Code!, units.Reason!) : new RunnerOutcome { Units = units.Update }, cancellationToken);
            }

            return 0;
        }
        finally
        {
            if (Directory.Exists(view))
            {
                Directory.Delete(view, recursive: true);
            }
        }
    }

    private static async Task WriteAsync(Stream output, RunnerOutcome outcome, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(RunnerProtocol.Write(outcome) + "\n");
        await output.WriteAsync(bytes, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    private static async Task<RunnerOutcome> RunOneAsync(FederatedAnalyses analyses, RunnerRequest request, string dataRoot, CancellationToken cancellationToken)
    {
        if (request.Policy.Validate() is { Count: > 0 } errors)
        {
            return RunnerOutcome.Refusal(FederationAnalysisCodes.InvalidParameters, errors);
        }

        var view = Path.Combine(Path.GetTempPath(), $"openspe-view-{Environment.ProcessId}-{Interlocked.Increment(ref views)}");
        try
        {
            if (FlatView(dataRoot, request.Datasets, view) is { } refusal)
            {
                return refusal;
            }

            var outcome = await analyses.RunAsync(request.Component, request.Parameters.GetRawText(), view, request.Policy, cancellationToken);
            return outcome.Refusal is { } refused
                ? RunnerOutcome.Refusal(refused.Code, refused.Reasons)
                : new RunnerOutcome { Aggregate = JsonSerializer.Deserialize<JsonElement>(outcome.AggregateJson!) };
        }
        finally
        {
            if (Directory.Exists(view))
            {
                Directory.Delete(view, recursive: true);
            }
        }
    }

    /// <summary>
    /// Links every file of the request's datasets (<c>/data/&lt;dataset&gt;/&lt;file&gt;</c>) into one flat directory, as the
    /// analyses expect; two files of one name refuse the request.
    /// </summary>
    private static RunnerOutcome? FlatView(string dataRoot, IReadOnlyList<string> datasets, string view)
    {
        Directory.CreateDirectory(view);
        foreach (var dataset in datasets)
        {
            // Note: a dataset id is one path segment; anything else could reach outside the project's data.
            if (dataset.Length == 0 || dataset != Path.GetFileName(dataset) || dataset is "." or "..")
            {
                return RunnerOutcome.Refusal(FederationAnalysisCodes.InvalidParameters, "a dataset id is not a plain name");
            }

            var directory = Path.Combine(dataRoot, dataset);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(file);
                var link = Path.Combine(view, name);
                if (File.Exists(link))
                {
                    return RunnerOutcome.Refusal(ErrorCodes.FederatedAnalysisDatasetUnusable, $"two of the permit's datasets held here have a file named '{name}'");
                }

                File.CreateSymbolicLink(link, file);
            }
        }

        return null;
    }
}
