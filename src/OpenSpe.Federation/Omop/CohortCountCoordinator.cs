using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Omop;

/// <summary>A federated cohort count's end: exactly one of a result or a failure.</summary>
/// <param name="Result">The counts, or null.</param>
/// <param name="Failure">Why there are none, or null.</param>
public sealed record CohortCountOutcome(CohortCountResult? Result, CoordinationFailure? Failure);

/// <summary>
/// Asks every node for its (already suppressed) cohort counts and adds up what they released. A suppressed cell adds
/// nothing: the coordinator never learns or estimates it.
/// </summary>
public sealed class CohortCountCoordinator
{
    private readonly ILogger _logger;

    /// <summary>Creates the coordinator.</summary>
    public CohortCountCoordinator(ILogger<CohortCountCoordinator>? logger = null) =>
        _logger = logger ?? NullLogger<CohortCountCoordinator>.Instance;

    /// <summary>Counts <paramref name="request"/> over <paramref name="nodes"/>.</summary>
    public async Task<CohortCountOutcome> CountAsync(IReadOnlyList<IFederatedNode> nodes, CohortCountRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(request);
        var json = AnalysisJson.Write(request);
        var outcomes = await Task.WhenAll(nodes.Select(n => n.RunAsync(CohortCountNodeAnalysis.ComponentName, json, cancellationToken))).ConfigureAwait(false);
        var refusals = NodeRefusal.Among(nodes, outcomes);
        if (refusals.Length > 0)
        {
            return Fail(FederationAnalysisCodes.NodeRefused, $"{refusals.Length} of {nodes.Count} nodes refused", refusals);
        }

        var released = new List<CohortNodeCounts>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var aggregate = AnalysisJson.TryRead<CohortCountAggregate>(outcomes[i].AggregateJson!, out _);
            // Note: a cell carrying both a count and the suppressed flag is malformed and refused, never half-used.
            if (aggregate is null || aggregate.Cells.Any(c => c.Suppressed == c.Count.HasValue || c.Count < 0))
            {
                return Fail(FederationAnalysisCodes.CombineFailed, $"node {nodes[i].Name} answered with malformed counts", []);
            }

            released.Add(new CohortNodeCounts(nodes[i].Name, aggregate.Threshold, aggregate.Cells));
        }

        var strata = released.SelectMany(n => n.Cells)
            .GroupBy(c => (c.Gender, c.AgeBand))
            .Select(g => new CohortStratum(g.Key.Gender, g.Key.AgeBand, g.Sum(c => c.Count ?? 0), g.Count(c => c.Suppressed)))
            .ToArray();
        return new CohortCountOutcome(new CohortCountResult
        {
            Request = request,
            Total = strata.Sum(s => s.Count),
            Strata = strata,
            Nodes = released,
        }, null);
    }

    private CohortCountOutcome Fail(string code, string message, IReadOnlyList<NodeRefusal> nodes)
    {
        FederationAnalysisLog.CoordinationFailed(_logger, CohortCountNodeAnalysis.ComponentName, code, message);
        return new CohortCountOutcome(null, new CoordinationFailure(code, message, nodes));
    }
}
