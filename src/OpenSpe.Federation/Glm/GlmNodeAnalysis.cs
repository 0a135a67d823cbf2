using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Data;

namespace OpenSpe.Federation.Glm;

/// <summary>
/// The node side of the exact federated GLM (component <c>openspe.glm</c>): reads the local table, builds the model
/// matrix, checks the disclosure traps and, only when none fires, releases a <see cref="GlmContribution"/> at the
/// requested β. When a trap fires the answer is a refusal and nothing else: no information matrix, no score vector, no
/// deviance, no counts.
/// </summary>
public sealed class GlmNodeAnalysis : IFederatedAnalysis
{
    /// <summary>The component name.</summary>
    public const string ComponentName = "openspe.glm";

    private readonly ILogger _logger;

    /// <summary>Creates the analysis.</summary>
    public GlmNodeAnalysis(ILogger<GlmNodeAnalysis>? logger = null) => _logger = logger ?? NullLogger<GlmNodeAnalysis>.Instance;

    /// <inheritdoc />
    public string Component => ComponentName;

    /// <inheritdoc />
    public Task<AnalysisOutcome> RunAsync(string parametersJson, string datasetDirectory, NodePolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parametersJson);
        ArgumentNullException.ThrowIfNull(policy);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FederationAnalysisLog.Logged(_logger, ComponentName, Run(parametersJson, datasetDirectory, policy)));
    }

    private static AnalysisOutcome Run(string parametersJson, string datasetDirectory, NodePolicy policy)
    {
        var request = AnalysisJson.TryRead<GlmRequest>(parametersJson, out var jsonError);
        if (request is null)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, jsonError);
        }

        if (GlmFamily.Parse(request.Family) is not { } family)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, "family must be gaussian, binomial or poisson");
        }

        Formula formula;
        try
        {
            formula = FormulaParser.Parse(request.Formula);
        }
        catch (FormatException e)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, e.Message);
        }

        var path = DatasetFiles.Resolve(datasetDirectory, request.Table, ".csv", out var fileError);
        if (path is null)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.DatasetUnusable, fileError);
        }

        DesignMatrix design;
        try
        {
            design = DesignMatrix.Build(formula, LocalTable.Read(path), family, request.Levels);
        }
        catch (InvalidDataException e)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.DatasetUnusable, e.Message);
        }

        // Note: the traps are checked before any sum is formed and, when one fires, the answer is built from the reasons
        // alone, because dsBase 6.3.3's glmDS2 blanked a misspelt variable and still returned the real score vector.
        var traps = GlmDisclosureTraps.Check(design, policy);
        if (traps.Count > 0)
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.DisclosureTrap, traps);
        }

        var beta = request.Beta is null ? new double[design.P] : request.Beta.ToArray();
        if (beta.Length != design.P || !beta.All(double.IsFinite))
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, $"beta must hold {design.P} finite numbers, one per model column");
        }

        var contribution = GlmNodeComputation.Compute(design, family, beta);
        if (!double.IsFinite(contribution.Deviance) || !contribution.Score.All(double.IsFinite)
            || !contribution.Information.All(r => r.All(double.IsFinite)))
        {
            return AnalysisOutcome.Refused(FederationAnalysisCodes.InvalidParameters, "beta makes the model overflow at this node");
        }

        return AnalysisOutcome.Aggregate(AnalysisJson.Write(contribution));
    }
}
