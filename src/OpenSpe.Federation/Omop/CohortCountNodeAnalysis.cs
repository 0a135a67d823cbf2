using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Omop;

/// <summary>
/// The node side of a federated OMOP cohort count (component <c>openspe.omop-cohort-count</c>): loads the holder's CDM
/// tables into an in-memory DuckDB with schema validation, counts, and suppresses counts below the permit's threshold
/// (<see cref="OpenSpe.Disclosure.DisclosurePolicy.Threshold"/>) before anything leaves.
/// </summary>
public sealed class CohortCountNodeAnalysis : IFederatedAnalysis
{
    /// <summary>The component name.</summary>
    public const string ComponentName = "openspe.omop-cohort-count";

    private static readonly string[] Strata = ["gender", "age"];
    private readonly ILogger _logger;

    /// <summary>Creates the analysis.</summary>
    public CohortCountNodeAnalysis(ILogger<CohortCountNodeAnalysis>? logger = null) =>
        _logger = logger ?? NullLogger<CohortCountNodeAnalysis>.Instance;

    /// <inheritdoc />
    public string Component => ComponentName;

    /// <inheritdoc />
    public Task<AnalysisOutcome> RunAsync(string parametersJson, string datasetDirectory, NodePolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parametersJson);
        ArgumentNullException.ThrowIfNull(policy);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FederationAnalysisLog.Logged(_logger, ComponentName, Run(parametersJson, datasetDirectory, policy)));
    }

    private static AnalysisOutcome Run(string parametersJson, string datasetDirectory, NodePolicy policy)
    {
        var request = AnalysisJson.TryRead<CohortCountRequest>(parametersJson, out var error);
        if (request is null)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, error);
        }

        if (request.By?.Any(b => !Strata.Contains(b)) == true || request.AgeBandYears is < 1 or > 100)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, "by may hold 'gender' and 'age'; ageBandYears must be 1 to 100");
        }

        List<(string? Gender, string? AgeBand, long Count)> counts;
        try
        {
            using var database = CdmDatabase.Open(datasetDirectory);
            counts = CohortCountQuery.Run(database, request);
        }
        catch (CdmSchemaException e)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.DatasetUnusable, e.Message);
        }

        // Note: suppression happens here, at the node, because a count that left the node cannot be taken back; the
        // coordinator only ever sees the released cells.
        var threshold = policy.Disclosure.Threshold;
        return AnalysisOutcome.Aggregate(AnalysisJson.Write(new CohortCountAggregate
        {
            Cells = CountSuppression.Apply(counts, threshold, policy.Disclosure.ZerosAllowed),
            Threshold = threshold,
        }));
    }
}
