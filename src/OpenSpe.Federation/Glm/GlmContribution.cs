namespace OpenSpe.Federation.Glm;

/// <summary>
/// What a node releases for one GLM iteration at the requested β: the information matrix XᵀWX, the score vector XᵀWu
/// (u the working residual on the linear predictor's scale, as DataSHIELD's <c>glmDS2</c>), the deviance, Pearson's χ²
/// (for the gaussian dispersion) and the counts. Released only when no disclosure trap fired.
/// </summary>
public sealed record GlmContribution
{
    /// <summary>The model matrix's column names, as R names them; every node must have the same.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>XᵀWX, p × p, row by row.</summary>
    public required IReadOnlyList<IReadOnlyList<double>> Information { get; init; }

    /// <summary>XᵀWu, p.</summary>
    public required IReadOnlyList<double> Score { get; init; }

    /// <summary>The deviance at β.</summary>
    public required double Deviance { get; init; }

    /// <summary>Pearson's χ² at β (Σ (y − μ)² / V(μ)).</summary>
    public required double PearsonChiSquare { get; init; }

    /// <summary>Complete rows used.</summary>
    public required int NValid { get; init; }

    /// <summary>Rows left out for a missing value.</summary>
    public required int NMissing { get; init; }
}
