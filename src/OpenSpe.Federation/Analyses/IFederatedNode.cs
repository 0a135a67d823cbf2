namespace OpenSpe.Federation.Analyses;

/// <summary>
/// A node as the coordinator sees it: something that runs a component with parameters and answers with an outcome. The
/// gRPC side implements it with <c>SubmitTask</c>; <see cref="LocalFederatedNode"/> runs an analysis in-process.
/// </summary>
public interface IFederatedNode
{
    /// <summary>The node's name (its certificate name in a federation).</summary>
    string Name { get; }

    /// <summary>Runs <paramref name="component"/> at the node with <paramref name="parametersJson"/>.</summary>
    Task<AnalysisOutcome> RunAsync(string component, string parametersJson, CancellationToken cancellationToken);
}
