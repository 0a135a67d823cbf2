using Microsoft.Extensions.Logging;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Learning;

/// <summary>A node in this process (tests, benchmarks): its dataset directory, policy, ledger and the permit's budget as this node holds it.</summary>
public sealed class LocalLearningNode(
    string name, string datasetDirectory, NodePolicy policy, LearningNodeSettings settings, PrivacyLedger ledger, PrivacyBudget budget,
    IRandomSource random, ILogger? logger = null) : IFederatedLearner
{
    private FedAvgNodeSession? _session;

    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public Task<LearnerOpening> OpenAsync(FedAvgSpecification specification, string permit, string requester, CancellationToken cancellationToken)
    {
        var (session, code, reason) = FedAvgNodeSession.Open(specification, datasetDirectory, policy, settings, ledger, new LedgerScope(permit, requester, budget), random, logger);
        _session = session;
        return Task.FromResult(session is null ? LearnerOpening.Refused(code!, reason!) : new LearnerOpening(session.Columns, session.Rows, null, null));
    }

    /// <inheritdoc />
    public Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken) =>
        _session is null ? Task.FromResult(LearnerRound.Refused(FederationAnalysisCodes.InvalidParameters, "no open session")) : _session.RoundAsync(round, parameters, cancellationToken);
}
