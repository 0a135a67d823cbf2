namespace OpenSpe.Federation.Learning;

/// <summary>
/// A node as the FedAvg coordinator sees it (the <c>Train</c> stream to one peer, or <see cref="LocalLearningNode"/> in
/// process): open a training session, then one clipped, noised integer update per round.
/// </summary>
public interface IFederatedLearner
{
    /// <summary>The node's name.</summary>
    string Name { get; }

    /// <summary>Opens a session for <paramref name="specification"/> on behalf of <paramref name="requester"/> under <paramref name="permit"/>.</summary>
    Task<LearnerOpening> OpenAsync(FedAvgSpecification specification, string permit, string requester, CancellationToken cancellationToken);

    /// <summary>One round: the global parameters (on the scaled model's scale) in, the node's integer update out.</summary>
    Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken);
}

/// <summary>A node's answer to opening: its columns and complete rows, or its refusal.</summary>
public sealed record LearnerOpening(IReadOnlyList<string>? Columns, int Rows, string? Code, string? Reason)
{
    /// <summary>Whether the node refused.</summary>
    public bool IsRefused => Code is not null;

    /// <summary>A refusal with nothing else.</summary>
    public static LearnerOpening Refused(string code, string reason) => new(null, 0, code, reason);
}

/// <summary>A node's answer to a round: its integer update (clipped to K, noised), or its refusal.</summary>
public sealed record LearnerRound(IReadOnlyList<long>? Update, string? Code, string? Reason)
{
    /// <summary>Whether the node refused.</summary>
    public bool IsRefused => Code is not null;

    /// <summary>A refusal with nothing else.</summary>
    public static LearnerRound Refused(string code, string reason) => new(null, code, reason);
}
