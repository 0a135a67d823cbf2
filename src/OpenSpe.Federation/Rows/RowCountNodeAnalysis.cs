using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Rows;

/// <summary>
/// The node side of the built-in row count (component <c>openspe.row-count</c>), run in the project's sandbox once per dataset:
/// the data rows (lines after the header) of every CSV file of the dataset, added up, with a sum from 1 to below the permit's
/// threshold (<see cref="OpenSpe.Disclosure.DisclosurePolicy.Threshold"/>) suppressed before it leaves. Parameters: <c>{}</c>.
/// </summary>
public sealed class RowCountNodeAnalysis : IFederatedAnalysis
{
    /// <summary>The component name.</summary>
    public const string ComponentName = "openspe.row-count";

    private readonly ILogger _logger;

    /// <summary>Creates the analysis.</summary>
    public RowCountNodeAnalysis(ILogger<RowCountNodeAnalysis>? logger = null) =>
        _logger = logger ?? NullLogger<RowCountNodeAnalysis>.Instance;

    /// <inheritdoc />
    public string Component => ComponentName;

    /// <inheritdoc />
    public async Task<AnalysisOutcome> RunAsync(string parametersJson, string datasetDirectory, NodePolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parametersJson);
        ArgumentNullException.ThrowIfNull(policy);
        if (AnalysisJson.TryRead<RowCountRequest>(parametersJson, out var error) is null)
        {
            return FederationAnalysisLog.Logged(_logger, ComponentName, AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, error));
        }

        long rows = 0;
        foreach (var file in Directory.EnumerateFiles(datasetDirectory).Where(f => f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            rows += await CountDataRowsAsync(stream, cancellationToken);
        }

        // Note: a count from 1 to below the threshold is withheld here, in the sandbox, because it could single out people; zero
        // is released (it discloses nobody). The node checks the answer again outside the sandbox.
        var threshold = policy.Disclosure.Threshold;
        var suppressed = rows > 0 && rows < threshold;
        return FederationAnalysisLog.Logged(_logger, ComponentName,
            AnalysisOutcome.Aggregate(AnalysisJson.Write(new RowCountAggregate(suppressed ? null : rows, suppressed, threshold))));
    }

    private static async Task<long> CountDataRowsAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long lines = 0;
        var last = (byte)'\n';
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            last = buffer[read - 1];
        }

        if (last != (byte)'\n')
        {
            lines++;
        }

        return Math.Max(0, lines - 1);
    }
}

/// <summary>The row count's parameters: none (an empty object); anything else is refused.</summary>
public sealed record RowCountRequest;

/// <summary>One dataset's row count as a node releases it.</summary>
/// <param name="Rows">The data rows, or null when suppressed.</param>
/// <param name="Suppressed">Whether the count was withheld (from 1 to below the threshold).</param>
/// <param name="Threshold">The threshold applied.</param>
public sealed record RowCountAggregate(long? Rows, bool Suppressed, int Threshold);
