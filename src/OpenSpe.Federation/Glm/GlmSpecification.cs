namespace OpenSpe.Federation.Glm;

/// <summary>What the data user asks the coordinator to fit.</summary>
public sealed record GlmSpecification
{
    /// <summary>The R model formula.</summary>
    public required string Formula { get; init; }

    /// <summary><c>gaussian</c>, <c>binomial</c> or <c>poisson</c>.</summary>
    public required string Family { get; init; }

    /// <summary>The CSV file in each node's dataset; null when each node's dataset has exactly one.</summary>
    public string? Table { get; init; }

    /// <summary>Factor levels fixed for every node, by column.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Levels { get; init; }

    /// <summary>The most rounds of node calls (DataSHIELD: 20).</summary>
    public int MaxIterations { get; init; } = 20;

    /// <summary>Convergence when |ΔD| / (|D| + 0.1) is at most this (DataSHIELD and R: 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>
    /// What is wrong with the formula or family before any node is asked (a coordinator answers a malformed request itself
    /// instead of sending it to every node); null when both are accepted.
    /// </summary>
    public string? Problem()
    {
        if (GlmFamily.Parse(Family) is null)
        {
            return "family must be gaussian, binomial or poisson";
        }

        try
        {
            _ = FormulaParser.Parse(Formula ?? "");
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
