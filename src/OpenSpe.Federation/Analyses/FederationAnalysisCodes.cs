using OpenSpe.Contracts;

namespace OpenSpe.Federation.Analyses;

/// <summary>
/// Stable error codes of the federated analyses (defined with the others in <see cref="ErrorCodes"/>, docs/errors.md has a line for each). A node's refusal
/// carries one of them; the coordinator's failures too.
/// </summary>
public static class FederationAnalysisCodes
{
    /// <summary>The request's parameters are malformed (bad JSON, unknown family, formula syntax, wrong β length).</summary>
    public const string InvalidParameters = ErrorCodes.FederatedAnalysisInvalidParameters;

    /// <summary>The local dataset cannot serve the request (file missing, column missing or not numeric, schema invalid).</summary>
    public const string DatasetUnusable = ErrorCodes.FederatedAnalysisDatasetUnusable;

    /// <summary>A GLM disclosure trap fired (saturation or a binary variable with a small category): everything withheld.</summary>
    public const string DisclosureTrap = ErrorCodes.FederatedAnalysisDisclosureTrap;

    /// <summary>The coordinator could not combine the nodes' answers (different columns, singular information matrix).</summary>
    public const string CombineFailed = ErrorCodes.FederatedAnalysisCombineFailed;

    /// <summary>A node refused or failed, so the federated result was not computed.</summary>
    public const string NodeRefused = ErrorCodes.FederatedAnalysisNodeRefused;

    /// <summary>No analysis of the requested component exists at this node.</summary>
    public const string UnknownComponent = ErrorCodes.FederatedAnalysisUnknownComponent;
}
