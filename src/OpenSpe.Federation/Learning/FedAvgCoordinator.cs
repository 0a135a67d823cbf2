using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// Federated averaging at the coordinator: opens a session at every node, then each round sends the global parameters,
/// takes each node's integer update, and moves the parameters by the average weighted by the nodes' rows
/// (β ← β + γ · Σ nₖ zₖ / Σ nₖ). The result is given back on the original scale of the columns.
/// </summary>
public sealed class FedAvgCoordinator(ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>
    /// Trains; when <paramref name="ledger"/> is given the coordinator also reserves each round's ρ for
    /// <paramref name="scope"/> (the requester's own SPE refuses first, before asking any node).
    /// </summary>
    public async Task<FedAvgOutcome> TrainAsync(
        IReadOnlyList<IFederatedLearner> nodes, FedAvgSpecification spec, string permit, string requester,
        PrivacyLedger? ledger, LedgerScope? scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Validate() is { Count: > 0 } errors)
        {
            return Failed(FederationAnalysisCodes.InvalidParameters, string.Join("; ", errors), []);
        }

        if (nodes.Count == 0)
        {
            return Failed(FederationAnalysisCodes.InvalidParameters, "no nodes", []);
        }

        var openings = await Task.WhenAll(nodes.Select(n => n.OpenAsync(spec, permit, requester, cancellationToken))).ConfigureAwait(false);
        var refused = Refusals(nodes, openings.Select(o => (o.Code, o.Reason)));
        if (refused.Count > 0)
        {
            return Failed(FederationAnalysisCodes.NodeRefused, "a node refused to open training", refused);
        }

        var columns = openings[0].Columns!;
        if (openings.Any(o => !o.Columns!.SequenceEqual(columns, StringComparer.Ordinal)))
        {
            return Failed(FederationAnalysisCodes.CombineFailed, "the nodes' model columns differ (fix each factor's levels for every node with the request's 'levels' member)", []);
        }

        var weights = openings.Select(o => (double)o.Rows).ToArray();
        var totalWeight = weights.Sum();
        var beta = new double[columns.Count];
        var rounds = 0;
        CoordinationFailure? stopped = null;
        for (var round = 1; round <= spec.Rounds; round++)
        {
            LedgerReservation? reservation = null;
            if (ledger is not null && scope is not null && spec.Variance is not null)
            {
                reservation = await ledger.TryReserveAsync(scope, spec.RhoPerRound, $"fedavg round {round} (coordinator)", cancellationToken).ConfigureAwait(false);
                if (reservation is null)
                {
                    stopped = new CoordinationFailure(FederatedLearningCodes.BudgetExhausted, $"round {round} would exceed the permit's privacy budget", []);
                    break;
                }
            }

            await using (reservation)
            {
                var answers = await Task.WhenAll(nodes.Select(n => n.RoundAsync(round, beta, cancellationToken))).ConfigureAwait(false);
                // Note: committed as soon as any node released an update, because that noised update was seen whatever
                // happens next; given back (by disposing) only when no node released anything.
                if (reservation is not null && answers.Any(a => !a.IsRefused))
                {
                    await reservation.CommitAsync(cancellationToken).ConfigureAwait(false);
                }

                var roundRefused = Refusals(nodes, answers.Select(a => (a.Code, a.Reason)));
                if (roundRefused.Count > 0)
                {
                    var code = roundRefused.All(r => r.Refusal.Code == FederatedLearningCodes.BudgetExhausted) ? FederatedLearningCodes.BudgetExhausted : FederationAnalysisCodes.NodeRefused;
                    stopped = new CoordinationFailure(code, $"round {round}: a node refused", roundRefused);
                    break;
                }

                if (answers.Any(a => a.Update!.Count != columns.Count))
                {
                    stopped = new CoordinationFailure(FederationAnalysisCodes.CombineFailed, $"round {round}: an update has the wrong length", []);
                    break;
                }

                for (var j = 0; j < columns.Count; j++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < answers.Length; k++)
                    {
                        sum += weights[k] * answers[k].Update![j];
                    }

                    beta[j] += spec.Granularity * sum / totalWeight;
                }

                rounds = round;
            }
        }

        LearningLog.TrainingFinished(_logger, rounds, nodes.Count);
        var result = new FedAvgResult
        {
            Columns = columns,
            Estimates = Unscale(columns, beta, spec.Scaling),
            Rounds = rounds,
            RhoPerRound = spec.RhoPerRound,
            Nodes = [.. nodes.Zip(openings).Select(p => new FedAvgNodeSummary(p.First.Name, p.Second.Rows))],
        };
        return new FedAvgOutcome(rounds > 0 || stopped is null ? result : null, stopped);
    }

    // β on the original scale from β' on the scaled one: βⱼ = β'ⱼ / sⱼ, β₀ = β'₀ − Σ β'ⱼ cⱼ / sⱼ.
    private static double[] Unscale(IReadOnlyList<string> columns, double[] scaled, IReadOnlyDictionary<string, double[]>? scaling)
    {
        var beta = (double[])scaled.Clone();
        var intercept = columns.ToList().IndexOf("(Intercept)");
        foreach (var (column, pair) in scaling ?? new Dictionary<string, double[]>())
        {
            var j = columns.ToList().IndexOf(column);
            beta[j] = scaled[j] / pair[1];
            if (intercept >= 0)
            {
                beta[intercept] -= scaled[j] * pair[0] / pair[1];
            }
        }

        return beta;
    }

    private static List<NodeRefusal> Refusals(IReadOnlyList<IFederatedLearner> nodes, IEnumerable<(string? Code, string? Reason)> answers) =>
        [.. nodes.Zip(answers).Where(p => p.Second.Code is not null).Select(p => new NodeRefusal(p.First.Name, new AnalysisRefusal(p.Second.Code!, [p.Second.Reason ?? ""])))];

    private FedAvgOutcome Failed(string code, string message, IReadOnlyList<NodeRefusal> nodes)
    {
        FederationAnalysisLog.CoordinationFailed(_logger, "fedavg", code, message);
        return new FedAvgOutcome(null, new CoordinationFailure(code, message, nodes));
    }
}

/// <summary>The trained model: estimates on the columns' original scale, rounds done, ρ per round.</summary>
public sealed record FedAvgResult
{
    /// <summary>The model's columns, as R names them.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>The estimate of each column.</summary>
    public required IReadOnlyList<double> Estimates { get; init; }

    /// <summary>Rounds completed.</summary>
    public required int Rounds { get; init; }

    /// <summary>ρ each round cost each node's data (zero without noise).</summary>
    public required Rational RhoPerRound { get; init; }

    /// <summary>The nodes and their complete rows.</summary>
    public required IReadOnlyList<FedAvgNodeSummary> Nodes { get; init; }
}

/// <summary>A node's name and complete rows.</summary>
public sealed record FedAvgNodeSummary(string Name, int Rows);

/// <summary>
/// The result, the failure, or both: a run stopped part way (a node's budget ran out) keeps the model of the rounds
/// already paid for, with the failure saying why it stopped.
/// </summary>
public sealed record FedAvgOutcome(FedAvgResult? Result, CoordinationFailure? Failure);
