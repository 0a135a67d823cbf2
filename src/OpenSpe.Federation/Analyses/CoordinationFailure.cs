namespace OpenSpe.Federation.Analyses;

/// <summary>Why a federated analysis produced no result: a stable code, a message, and each node's refusal if any.</summary>
/// <param name="Code">The stable error code (<see cref="FederationAnalysisCodes"/>).</param>
/// <param name="Message">What went wrong, naming no data.</param>
/// <param name="Nodes">The nodes that refused and their refusals; empty when no node refused.</param>
public sealed record CoordinationFailure(string Code, string Message, IReadOnlyList<NodeRefusal> Nodes);

/// <summary>One node's refusal, as the coordinator reports it.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Refusal">Its code and reasons.</param>
public sealed record NodeRefusal(string Node, AnalysisRefusal Refusal)
{
    /// <summary>The refusals among <paramref name="outcomes"/>, paired with <paramref name="nodes"/> in order.</summary>
    public static NodeRefusal[] Among(IReadOnlyList<IFederatedNode> nodes, IReadOnlyList<AnalysisOutcome> outcomes) =>
        [.. nodes.Zip(outcomes).Where(p => p.Second.IsRefused).Select(p => new NodeRefusal(p.First.Name, p.Second.Refusal!))];
}
