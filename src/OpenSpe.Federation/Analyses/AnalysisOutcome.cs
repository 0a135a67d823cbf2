namespace OpenSpe.Federation.Analyses;

/// <summary>What a node answers: exactly one of an aggregate (JSON) or a refusal (code and reason, nothing else).</summary>
public sealed class AnalysisOutcome
{
    private AnalysisOutcome(string? aggregateJson, AnalysisRefusal? refusal)
    {
        AggregateJson = aggregateJson;
        Refusal = refusal;
    }

    /// <summary>The aggregate to release; null when refused.</summary>
    public string? AggregateJson { get; }

    /// <summary>The refusal; null when an aggregate is released.</summary>
    public AnalysisRefusal? Refusal { get; }

    /// <summary>Whether the node withheld its answer.</summary>
    public bool IsRefused => Refusal is not null;

    /// <summary>An aggregate the node releases.</summary>
    public static AnalysisOutcome Aggregate(string json) => new(json, null);

    /// <summary>A refusal: the node releases nothing but the code and the reasons.</summary>
    public static AnalysisOutcome Refused(string code, params IReadOnlyList<string> reasons) => new(null, new AnalysisRefusal(code, reasons));
}

/// <summary>A node's refusal: a stable SPE code (<see cref="FederationAnalysisCodes"/>) and reasons that name rules, not data.</summary>
/// <param name="Code">The stable error code.</param>
/// <param name="Reasons">Every rule that fired, in the order checked.</param>
public sealed record AnalysisRefusal(string Code, IReadOnlyList<string> Reasons)
{
    /// <summary>The reasons in one line.</summary>
    public string Message => string.Join("; ", Reasons);
}
