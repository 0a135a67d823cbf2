namespace OpenSpe.Federation.Omop;

/// <summary>The parameters of a cohort count (component <c>openspe.omop-cohort-count</c>), the same for every node.</summary>
public sealed record CohortCountRequest
{
    /// <summary>The OMOP concept whose persons are counted (its domain picks the event table).</summary>
    public required long Concept { get; init; }

    /// <summary>Whether the concept's descendants (CONCEPT_ANCESTOR) count too.</summary>
    public bool Descendants { get; init; }

    /// <summary>Strata: none, or any of <c>gender</c> and <c>age</c>.</summary>
    public IReadOnlyList<string>? By { get; init; }

    /// <summary>Width in years of the age bands (age at the person's first qualifying event); default 10.</summary>
    public int AgeBandYears { get; init; } = 10;
}
