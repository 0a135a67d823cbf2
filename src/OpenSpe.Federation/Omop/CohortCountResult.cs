using System.Text.Json;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Omop;

/// <summary>A stratum of the combined count: the released counts of all nodes added, and how many nodes suppressed theirs.</summary>
/// <param name="Gender">The gender stratum, or null.</param>
/// <param name="AgeBand">The age band, or null.</param>
/// <param name="Count">The sum of the released counts.</param>
/// <param name="SuppressedAtNodes">How many nodes suppressed this stratum (its true total is then higher).</param>
public sealed record CohortStratum(string? Gender, string? AgeBand, long Count, int SuppressedAtNodes);

/// <summary>One node's released cells.</summary>
/// <param name="Name">The node.</param>
/// <param name="Threshold">The node's suppression threshold.</param>
/// <param name="Cells">Its cells as released.</param>
public sealed record CohortNodeCounts(string Name, int Threshold, IReadOnlyList<CohortCell> Cells);

/// <summary>A federated cohort count: computed from released counts only.</summary>
public sealed record CohortCountResult
{
    /// <summary>The request.</summary>
    public required CohortCountRequest Request { get; init; }

    /// <summary>The sum of every released count (suppressed cells contribute nothing).</summary>
    public required long Total { get; init; }

    /// <summary>Whether some cell was suppressed, so <see cref="Total"/> is a lower bound.</summary>
    public bool TotalIsLowerBound => Nodes.Any(n => n.Cells.Any(c => c.Suppressed));

    /// <summary>The strata over all nodes.</summary>
    public required IReadOnlyList<CohortStratum> Strata { get; init; }

    /// <summary>Each node's released cells.</summary>
    public required IReadOnlyList<CohortNodeCounts> Nodes { get; init; }

    /// <summary>The JSON of <c>spe federation count --json</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        concept = Request.Concept,
        descendants = Request.Descendants,
        by = Request.By ?? [],
        total = Total,
        totalIsLowerBound = TotalIsLowerBound,
        strata = Strata.Select(s => new { gender = s.Gender, ageBand = s.AgeBand, count = s.Count, suppressedAtNodes = s.SuppressedAtNodes }),
        nodes = Nodes.Select(n => new { name = n.Name, status = "ok", threshold = n.Threshold, cells = n.Cells }),
    }, AnalysisJson.Options);
}
