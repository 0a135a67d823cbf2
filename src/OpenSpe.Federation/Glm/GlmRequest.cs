namespace OpenSpe.Federation.Glm;

/// <summary>The parameters of one GLM iteration sent to every node (component <c>openspe.glm</c>).</summary>
public sealed record GlmRequest
{
    /// <summary>The R model formula, e.g. <c>DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL</c>.</summary>
    public required string Formula { get; init; }

    /// <summary><c>gaussian</c>, <c>binomial</c> or <c>poisson</c> (canonical links).</summary>
    public required string Family { get; init; }

    /// <summary>The current coefficients in the model matrix's column order; null in the first iteration (β = 0).</summary>
    public IReadOnlyList<double>? Beta { get; init; }

    /// <summary>The CSV file in the node's dataset; null when the dataset has exactly one.</summary>
    public string? Table { get; init; }

    /// <summary>Levels fixed per factor column, so that nodes missing a level still code the factor alike.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Levels { get; init; }
}
