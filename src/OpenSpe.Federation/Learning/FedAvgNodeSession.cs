using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Contracts;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Data;
using OpenSpe.Federation.Glm;

namespace OpenSpe.Federation.Learning;

/// <summary>What a node lets federated learning do (its own settings; a request cannot loosen them).</summary>
public sealed record LearningNodeSettings
{
    /// <summary>The default: noise required.</summary>
    public static LearningNodeSettings Default { get; } = new();

    /// <summary>
    /// Whether a request without noise is refused (true). Only tests and benchmarks turn it off: a noise-free update is
    /// an exact function of the node's rows.
    /// </summary>
    public bool RequireNoise { get; init; } = true;
}

/// <summary>
/// The node's side of one training run: per round it reserves the round's ρ on its own ledger, takes the clipped integer
/// update from its <see cref="IClippedUpdateSource"/> (the local step: in this process, <see cref="FedAvgLocalStep"/>, or in the
/// project's sandbox), checks its length and its exact L2 bound, draws the noise, releases it and commits.
/// </summary>
/// <remarks>
/// Note: the node keeps its own ledger for its own rows and never trusts the coordinator's accounting, because the
/// privacy loss is that of the node's data subjects and the coordinator could be wrong or lie.
/// </remarks>
public sealed class FedAvgNodeSession
{
    private readonly FedAvgSpecification _spec;
    private readonly IClippedUpdateSource _model;
    private readonly PrivacyLedger _ledger;
    private readonly LedgerScope _scope;
    private readonly DiscreteGaussian _noise;
    private readonly ILogger _logger;
    private int _lastRound;

    private FedAvgNodeSession(FedAvgSpecification spec, IClippedUpdateSource model, PrivacyLedger ledger, LedgerScope scope, DiscreteGaussian noise, ILogger logger)
    {
        _spec = spec;
        _model = model;
        _ledger = ledger;
        _scope = scope;
        _noise = noise;
        _logger = logger;
    }

    /// <summary>The model's columns.</summary>
    public IReadOnlyList<string> Columns => _model.Columns;

    /// <summary>The node's complete rows.</summary>
    public int Rows => _model.Rows;

    /// <summary>Opens a session on the dataset in <paramref name="datasetDirectory"/>, or says why not (codes of <see cref="FederationAnalysisCodes"/>).</summary>
    public static (FedAvgNodeSession? Session, string? Code, string? Reason) Open(
        FedAvgSpecification spec, string datasetDirectory, NodePolicy policy, LearningNodeSettings settings,
        PrivacyLedger ledger, LedgerScope scope, IRandomSource random, ILogger? logger = null)
    {
        var (step, code, reason) = FedAvgLocalStep.Open(spec, datasetDirectory, policy, settings);
        return step is null ? (null, code, reason) : Over(spec, step, settings, ledger, scope, random, logger);
    }

    /// <summary>
    /// A session whose local step is <paramref name="source"/> (already opened on the node's data), or why not: the request's
    /// own checks and the node's noise rule are applied here again, whoever computes the step.
    /// </summary>
    public static (FedAvgNodeSession? Session, string? Code, string? Reason) Over(
        FedAvgSpecification spec, IClippedUpdateSource source, LearningNodeSettings settings,
        PrivacyLedger ledger, LedgerScope scope, IRandomSource random, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(settings);
        if (spec.Validate() is { Count: > 0 } errors)
        {
            return (null, FederationAnalysisCodes.InvalidParameters, string.Join("; ", errors));
        }

        if (spec.Variance is null && settings.RequireNoise)
        {
            return (null, FederationAnalysisCodes.InvalidParameters, "this node releases learning updates only with noise (noiseVariance)");
        }

        return (new FedAvgNodeSession(spec, source, ledger, scope, new DiscreteGaussian(random), logger ?? NullLogger.Instance), null, null);
    }

    /// <summary>One round's update, or a refusal (budget exhausted, rounds out of order, malformed parameters).</summary>
    public async Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
    {
        if (round != _lastRound + 1 || round > _spec.Rounds)
        {
            return LearnerRound.Refused(FederationAnalysisCodes.InvalidParameters, $"round {round} is not the next of at most {_spec.Rounds}");
        }

        if (parameters.Count != _model.Columns.Count || !parameters.All(double.IsFinite))
        {
            return LearnerRound.Refused(FederationAnalysisCodes.InvalidParameters, $"the parameters must be {_model.Columns.Count} finite numbers");
        }

        _lastRound = round;
        var rho = _spec.RhoPerRound;
        LedgerReservation? reservation = null;
        if (_spec.Variance is not null)
        {
            // Note: reserved before the update is computed or any noise drawn, so a refused round has released nothing.
            reservation = await _ledger.TryReserveAsync(_scope, rho, $"fedavg round {round}", cancellationToken).ConfigureAwait(false);
            if (reservation is null)
            {
                return LearnerRound.Refused(FederatedLearningCodes.BudgetExhausted, $"round {round} would exceed the permit's privacy budget");
            }
        }

        await using (reservation)
        {
            var local = await _model.ClippedUnitsAsync(round, parameters, cancellationToken).ConfigureAwait(false);
            if (local.IsRefused)
            {
                return local;
            }

            var units = local.Update!.ToArray();
            // Note: the bound is checked here, exactly, whoever computed the step, because the noise protects the data subjects
            // only for updates within it: a longer one (a changed or broken local step) is refused before any noise is drawn.
            if (units.Length != _model.Columns.Count || LogisticLocalModel.SquaredNorm(units) > System.Numerics.BigInteger.Pow(_spec.ClipUnits, 2))
            {
                return LearnerRound.Refused(ErrorCodes.FederatedComponentOutputRefused, $"the local update is not {_model.Columns.Count} integers within the clipping bound");
            }

            if (_spec.Variance is { } variance)
            {
                for (var j = 0; j < units.Length; j++)
                {
                    var noised = units[j] + _noise.Sample(variance);
                    // Note: a value beyond a long (σ near 2^32) is refused rather than wrapped, which would change the update.
                    if (noised > long.MaxValue || noised < long.MinValue)
                    {
                        return LearnerRound.Refused(FederationAnalysisCodes.InvalidParameters, "the noise is too large for a 64-bit update");
                    }

                    units[j] = (long)noised;
                }
            }

            if (reservation is not null)
            {
                await reservation.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            LearningLog.RoundReleased(_logger, round, units.Length);
            return new LearnerRound(units, null, null);
        }
    }
}

/// <summary>Where a session's clipped integer updates come from: the local step on the node's rows, wherever it runs.</summary>
public interface IClippedUpdateSource
{
    /// <summary>The model's columns, as R names them.</summary>
    IReadOnlyList<string> Columns { get; }

    /// <summary>The node's complete rows.</summary>
    int Rows { get; }

    /// <summary>The clipped integer change of round <paramref name="round"/> from <paramref name="parameters"/>, or a refusal; no noise.</summary>
    Task<LearnerRound> ClippedUnitsAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken);
}

/// <summary>
/// The local step of FedAvg on a node's rows: checks the request, builds the model once (formula, table, the threshold on
/// complete rows, scaling), and per round computes the local change from the global parameters and clips it to integer
/// units within the L2 bound. It releases nothing by itself: a <see cref="FedAvgNodeSession"/> adds the noise and keeps the ledger.
/// </summary>
public sealed class FedAvgLocalStep : IClippedUpdateSource
{
    private readonly FedAvgSpecification _spec;
    private readonly LogisticLocalModel _model;

    private FedAvgLocalStep(FedAvgSpecification spec, LogisticLocalModel model)
    {
        _spec = spec;
        _model = model;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Columns => _model.Columns;

    /// <inheritdoc />
    public int Rows => _model.Rows;

    /// <summary>Opens the step on the dataset in <paramref name="datasetDirectory"/>, or says why not (codes of <see cref="FederationAnalysisCodes"/>).</summary>
    public static (FedAvgLocalStep? Step, string? Code, string? Reason) Open(
        FedAvgSpecification spec, string datasetDirectory, NodePolicy policy, LearningNodeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Validate() is { Count: > 0 } errors)
        {
            return (null, FederationAnalysisCodes.InvalidParameters, string.Join("; ", errors));
        }

        // Note: deny by default; a request that asks for no noise is refused unless this node's operator allows it.
        if (spec.Variance is null && settings.RequireNoise)
        {
            return (null, FederationAnalysisCodes.InvalidParameters, "this node releases learning updates only with noise (noiseVariance)");
        }

        Formula formula;
        try
        {
            formula = FormulaParser.Parse(spec.Formula);
        }
        catch (FormatException e)
        {
            return (null, FederationAnalysisCodes.InvalidParameters, e.Message);
        }

        var path = DatasetFiles.Resolve(datasetDirectory, spec.Table, ".csv", out var fileError);
        if (path is null)
        {
            return (null, FederationAnalysisCodes.DatasetUnusable, fileError);
        }

        DesignMatrix design;
        try
        {
            design = DesignMatrix.Build(formula, LocalTable.Read(path), GlmFamily.Parse("binomial")!, spec.Levels);
        }
        catch (InvalidDataException e)
        {
            return (null, FederationAnalysisCodes.DatasetUnusable, e.Message);
        }

        if (design.NValid < policy.Disclosure.Threshold)
        {
            return (null, FederationAnalysisCodes.DisclosureTrap, $"fewer complete rows than the threshold {policy.Disclosure.Threshold}");
        }

        var centers = new double[design.P];
        var scales = Enumerable.Repeat(1.0, design.P).ToArray();
        foreach (var (column, pair) in spec.Scaling ?? new Dictionary<string, double[]>())
        {
            var j = design.ColumnNames.ToList().IndexOf(column);
            if (j < 0 || column == "(Intercept)")
            {
                return (null, FederationAnalysisCodes.InvalidParameters, $"scaling names '{column}', which is not a model column other than the intercept");
            }

            (centers[j], scales[j]) = (pair[0], pair[1]);
        }

        if (centers.Any(c => c != 0) && !design.ColumnNames.Contains("(Intercept)"))
        {
            return (null, FederationAnalysisCodes.InvalidParameters, "centring needs a model with an intercept");
        }

        return (new FedAvgLocalStep(spec, new LogisticLocalModel(design, centers, scales)), null, null);
    }

    /// <summary>The clipped integer change from <paramref name="parameters"/> (which must be one finite number per column).</summary>
    public long[] ClippedUnits(IReadOnlyList<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return LogisticLocalModel.ClipToUnits(_model.LocalChange([.. parameters], _spec.LocalEpochs, _spec.LearningRate), _spec.Granularity, _spec.ClipUnits);
    }

    /// <inheritdoc />
    public Task<LearnerRound> ClippedUnitsAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Task.FromResult(parameters.Count == Columns.Count && parameters.All(double.IsFinite)
            ? new LearnerRound(ClippedUnits(parameters), null, null)
            : LearnerRound.Refused(FederationAnalysisCodes.InvalidParameters, $"the parameters must be {Columns.Count} finite numbers"));
    }
}
