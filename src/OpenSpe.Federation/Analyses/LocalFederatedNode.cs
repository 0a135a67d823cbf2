namespace OpenSpe.Federation.Analyses;

/// <summary>A node in this process: the analyses it offers, run on one dataset directory under its own policy.</summary>
public sealed class LocalFederatedNode : IFederatedNode
{
    private readonly FederatedAnalyses _analyses;
    private readonly string _datasetDirectory;
    private readonly NodePolicy _policy;

    /// <summary>Creates a node named <paramref name="name"/> serving <paramref name="datasetDirectory"/>.</summary>
    public LocalFederatedNode(string name, string datasetDirectory, NodePolicy policy, FederatedAnalyses analyses)
    {
        Name = name;
        _datasetDirectory = datasetDirectory;
        _policy = policy;
        _analyses = analyses;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public Task<AnalysisOutcome> RunAsync(string component, string parametersJson, CancellationToken cancellationToken) =>
        _analyses.RunAsync(component, parametersJson, _datasetDirectory, _policy, cancellationToken);
}
