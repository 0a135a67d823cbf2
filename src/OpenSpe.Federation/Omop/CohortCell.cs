namespace OpenSpe.Federation.Omop;

/// <summary>
/// One cell of a cohort count: its stratum (gender and age band when stratified) and its count, or no count when the
/// node suppressed it.
/// </summary>
public sealed record CohortCell
{
    /// <summary><c>male</c>, <c>female</c> or <c>other</c>; null when not stratified by gender.</summary>
    public string? Gender { get; init; }

    /// <summary>The age band, e.g. <c>20-29</c>, or <c>unknown</c>; null when not stratified by age.</summary>
    public string? AgeBand { get; init; }

    /// <summary>The number of distinct persons; null when suppressed.</summary>
    public long? Count { get; init; }

    /// <summary>Whether the node suppressed the count (below the threshold, or to protect a suppressed cell).</summary>
    public bool Suppressed { get; init; }
}

/// <summary>What a node releases for a cohort count: the cells, suppressed ones without a count, and the threshold used.</summary>
public sealed record CohortCountAggregate
{
    /// <summary>The cells.</summary>
    public required IReadOnlyList<CohortCell> Cells { get; init; }

    /// <summary>The smallest count the node releases.</summary>
    public required int Threshold { get; init; }
}
