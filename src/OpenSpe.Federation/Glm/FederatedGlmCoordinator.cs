using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Glm;

/// <summary>
/// The coordinator of the exact federated GLM (DataSHIELD's <c>ds.glm</c> algorithm): each round sends β to every node,
/// sums their XᵀWX, XᵀWu and deviances, and takes the Fisher scoring step β ← β + I⁻¹U (Cholesky on the summed
/// information matrix) until |ΔD| / (|D| + 0.1) ≤ ε or the iteration limit. The result equals <c>glm()</c> on the pooled
/// rows, without any row leaving a node.
/// </summary>
public sealed class FederatedGlmCoordinator
{
    private readonly ILogger _logger;

    /// <summary>Creates the coordinator.</summary>
    public FederatedGlmCoordinator(ILogger<FederatedGlmCoordinator>? logger = null) =>
        _logger = logger ?? NullLogger<FederatedGlmCoordinator>.Instance;

    /// <summary>Fits <paramref name="specification"/> over <paramref name="nodes"/>; <paramref name="progress"/> hears each round.</summary>
    public async Task<FederatedGlmOutcome> FitAsync(IReadOnlyList<IFederatedNode> nodes, GlmSpecification specification, CancellationToken cancellationToken, IProgress<GlmRound>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(specification);
        if (nodes.Count == 0)
        {
            return Fail(FederationAnalysisCodes.InvalidParameters, "no nodes to fit over", []);
        }

        if (GlmFamily.Parse(specification.Family) is not { } family)
        {
            return Fail(FederationAnalysisCodes.InvalidParameters, "family must be gaussian, binomial or poisson", []);
        }

        double[]? beta = null;
        double? previousDeviance = null;
        for (var iteration = 1; iteration <= specification.MaxIterations; iteration++)
        {
            var request = AnalysisJson.Write(new GlmRequest
            {
                Formula = specification.Formula,
                Family = specification.Family,
                Beta = beta,
                Table = specification.Table,
                Levels = specification.Levels,
            });
            var outcomes = await Task.WhenAll(nodes.Select(n => n.RunAsync(GlmNodeAnalysis.ComponentName, request, cancellationToken))).ConfigureAwait(false);
            var refusals = NodeRefusal.Among(nodes, outcomes);
            if (refusals.Length > 0)
            {
                // Note: one node's refusal stops the fit for all, because a model fitted without it would silently be
                // a different model; the refusals are reported as the nodes gave them.
                return Fail(FederationAnalysisCodes.NodeRefused, $"{refusals.Length} of {nodes.Count} nodes refused", refusals);
            }

            if (Combine(nodes, outcomes, beta?.Length) is not { } sum)
            {
                return Fail(FederationAnalysisCodes.CombineFailed, "the nodes' answers are malformed or their model columns differ (fix each factor's levels for every node: spe federation glm --levels COLUMN=A,B,..., the request's 'levels')", []);
            }

            var p = sum.Columns.Count;
            if (Cholesky.TryFactor(sum.Information, p, out var aliased) is not { } cholesky)
            {
                return Fail(FederationAnalysisCodes.CombineFailed, $"the information matrix is singular: column '{sum.Columns[aliased]}' is collinear with earlier columns or constant", []);
            }

            progress?.Report(new GlmRound(iteration, sum.Deviance, sum.Nodes));
            var step = cholesky.Solve(sum.Score);
            var current = beta ?? new double[p];
            var next = current.Zip(step, (b, s) => b + s).ToArray();
            var converged = previousDeviance is { } previous
                && Math.Abs(sum.Deviance - previous) / (Math.Abs(sum.Deviance) + 0.1) <= specification.Epsilon;
            if (converged || iteration == specification.MaxIterations)
            {
                FederationAnalysisLog.GlmFinished(_logger, iteration, nodes.Count, converged);
                return new FederatedGlmOutcome(Result(specification, family, sum, cholesky, next, iteration, converged), null);
            }

            previousDeviance = sum.Deviance;
            beta = next;
        }

        return Fail(FederationAnalysisCodes.InvalidParameters, "the iteration limit must be at least 1", []);
    }

    private static GlmResult Result(GlmSpecification specification, GlmFamily family, Sums sum, Cholesky cholesky, double[] estimates, int iterations, bool converged)
    {
        var p = sum.Columns.Count;
        var df = sum.NValid - p;
        var dispersion = family.EstimatesDispersion ? (df > 0 ? sum.Pearson / df : double.NaN) : 1.0;
        var unscaled = cholesky.InverseDiagonal();
        var coefficients = new GlmCoefficient[p];
        for (var j = 0; j < p; j++)
        {
            var se = Math.Sqrt(dispersion * unscaled[j]);
            var z = estimates[j] / se;
            var pValue = family.EstimatesDispersion ? Distributions.StudentTwoSided(z, df) : Distributions.NormalTwoSided(z);
            coefficients[j] = new GlmCoefficient(sum.Columns[j], estimates[j], se, z, pValue);
        }

        return new GlmResult
        {
            Formula = specification.Formula,
            Family = family.Name,
            Coefficients = coefficients,
            Deviance = sum.Deviance,
            Df = df,
            Dispersion = dispersion,
            NValid = sum.NValid,
            NMissing = sum.NMissing,
            Iterations = iterations,
            Converged = converged,
            Nodes = sum.Nodes,
        };
    }

    private static Sums? Combine(IReadOnlyList<IFederatedNode> nodes, AnalysisOutcome[] outcomes, int? expectedColumns)
    {
        Sums? sum = null;
        for (var i = 0; i < outcomes.Length; i++)
        {
            var part = AnalysisJson.TryRead<GlmContribution>(outcomes[i].AggregateJson!, out _);
            if (part is null || !IsWellFormed(part) || (expectedColumns is { } e && part.Columns.Count != e))
            {
                return null;
            }

            sum ??= new Sums(part.Columns);
            if (!sum.Columns.SequenceEqual(part.Columns, StringComparer.Ordinal))
            {
                return null;
            }

            sum.Add(nodes[i].Name, part);
        }

        return sum;
    }

    private static bool IsWellFormed(GlmContribution part)
    {
        var p = part.Columns.Count;
        return p > 0 && part.Score.Count == p && part.Information.Count == p && part.Information.All(r => r.Count == p)
            && part.NValid >= 0 && part.NMissing >= 0;
    }

    private FederatedGlmOutcome Fail(string code, string message, IReadOnlyList<NodeRefusal> nodes)
    {
        FederationAnalysisLog.CoordinationFailed(_logger, GlmNodeAnalysis.ComponentName, code, message);
        return new FederatedGlmOutcome(null, new CoordinationFailure(code, message, nodes));
    }

    /// <summary>The running sums of the nodes' contributions in one round.</summary>
    private sealed class Sums(IReadOnlyList<string> columns)
    {
        public IReadOnlyList<string> Columns { get; } = columns;

        public double[] Information { get; } = new double[columns.Count * columns.Count];

        public double[] Score { get; } = new double[columns.Count];

        public double Deviance { get; private set; }

        public double Pearson { get; private set; }

        public int NValid { get; private set; }

        public int NMissing { get; private set; }

        public List<GlmNodeSummary> Nodes { get; } = [];

        public void Add(string node, GlmContribution part)
        {
            var p = Columns.Count;
            for (var j = 0; j < p; j++)
            {
                Score[j] += part.Score[j];
                for (var k = 0; k < p; k++)
                {
                    Information[(j * p) + k] += part.Information[j][k];
                }
            }

            Deviance += part.Deviance;
            Pearson += part.PearsonChiSquare;
            NValid += part.NValid;
            NMissing += part.NMissing;
            Nodes.Add(new GlmNodeSummary(node, part.NValid, part.NMissing));
        }
    }
}
