namespace OpenSpe.Disclosure;

/// <summary>
/// The parameters of the disclosure rules: the fields of a permit's <c>policies.airlock</c> object. Every default is the
/// accepted one of the checker it comes from (docs/disclosure.md gives the source of each).
/// </summary>
public sealed record DisclosurePolicy
{
    /// <summary>The default policy.</summary>
    public static DisclosurePolicy Default { get; } = new();

    /// <summary>Smallest count cell, contributor count and survival drop that passes (ACRO, OpenSAFELY: 10).</summary>
    public int Threshold { get; init; } = 10;

    /// <summary>n of the NK dominance rule: how many top contributors are added up (ACRO: 2).</summary>
    public int DominanceN { get; init; } = 2;

    /// <summary>k of the NK dominance rule: the share of the cell total at or above which the top n fail (ACRO: 0.9).</summary>
    public double DominanceK { get; init; } = 0.9;

    /// <summary>p of the p % rule as a fraction (ACRO: 0.1, that is 10 %).</summary>
    public double PPercent { get; init; } = 0.1;

    /// <summary>Smallest equivalence class a record-level file may have (10).</summary>
    public int KAnonymity { get; init; } = 10;

    /// <summary>Smallest number of distinct sensitive values per equivalence class (distinct l-diversity, 2).</summary>
    public int LDiversity { get; init; } = 2;

    /// <summary>Whether zero cells in frequency tables pass (false: a zero can disclose that nobody has a trait).</summary>
    public bool ZerosAllowed { get; init; }

    /// <summary>Smallest residual degrees of freedom a regression may have (ACRO, DataSHIELD: 10).</summary>
    public int MinResidualDf { get; init; } = 10;

    /// <summary>The problems with the values, empty when they are all in range (the same ranges as the permit validator).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Range(errors, "threshold", Threshold, 1, 1000);
        Range(errors, "dominanceN", DominanceN, 1, 10);
        Range(errors, "dominanceK", DominanceK, 0.5, 1.0);
        Range(errors, "pPercent", PPercent, 0.0, 1.0);
        Range(errors, "kAnonymity", KAnonymity, 2, 1000);
        Range(errors, "lDiversity", LDiversity, 1, 100);
        Range(errors, "minResidualDf", MinResidualDf, 1, 1000);
        return errors;
    }

    private static void Range(List<string> errors, string name, double value, double min, double max)
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            errors.Add($"{name} must be between {min} and {max}.");
        }
    }
}
