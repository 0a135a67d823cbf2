namespace OpenSpe.Federation.Analyses;

/// <summary>
/// One federated analysis as a node runs it: parameters in, an anonymous aggregate or a typed refusal out. The transport
/// (the node's gRPC service) has already checked the peer, the permit, the requester and the component; this runs on the
/// dataset the permit gives the node and decides what may leave.
/// </summary>
public interface IFederatedAnalysis
{
    /// <summary>The component name a task names (e.g. <c>openspe.glm</c>), as listed in a permit's approved components.</summary>
    string Component { get; }

    /// <summary>
    /// Runs the analysis on the files in <paramref name="datasetDirectory"/> (the decrypted dataset, never written by this
    /// code) with the request's <paramref name="parametersJson"/> under the node's <paramref name="policy"/>.
    /// </summary>
    /// <returns>The aggregate JSON to send back, or a refusal whose reason carries no data.</returns>
    Task<AnalysisOutcome> RunAsync(string parametersJson, string datasetDirectory, NodePolicy policy, CancellationToken cancellationToken);
}
