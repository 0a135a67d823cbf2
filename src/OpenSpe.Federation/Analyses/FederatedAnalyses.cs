using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Federation.Rows;

namespace OpenSpe.Federation.Analyses;

/// <summary>The analyses a node offers, by component name; the transport looks the task's component up here.</summary>
public sealed class FederatedAnalyses
{
    private readonly Dictionary<string, IFederatedAnalysis> _byComponent;

    /// <summary>Creates the set from <paramref name="analyses"/>.</summary>
    public FederatedAnalyses(IEnumerable<IFederatedAnalysis> analyses)
    {
        ArgumentNullException.ThrowIfNull(analyses);
        _byComponent = analyses.ToDictionary(a => a.Component, StringComparer.Ordinal);
    }

    /// <summary>The built-in analyses: <c>openspe.glm</c>, <c>openspe.omop-cohort-count</c> and <c>openspe.row-count</c>.</summary>
    public static FederatedAnalyses BuiltIn() => new([new GlmNodeAnalysis(), new CohortCountNodeAnalysis(), new RowCountNodeAnalysis()]);

    /// <summary>The component names offered.</summary>
    public IReadOnlyCollection<string> Components => _byComponent.Keys;

    /// <summary>Runs <paramref name="component"/>, or refuses with <see cref="FederationAnalysisCodes.UnknownComponent"/>.</summary>
    public Task<AnalysisOutcome> RunAsync(string component, string parametersJson, string datasetDirectory, NodePolicy policy, CancellationToken cancellationToken) =>
        _byComponent.TryGetValue(component, out var analysis)
            ? analysis.RunAsync(parametersJson, datasetDirectory, policy, cancellationToken)
            : Task.FromResult(AnalysisOutcome.Refused(FederationAnalysisCodes.UnknownComponent, $"this node has no analysis '{component}'"));
}
