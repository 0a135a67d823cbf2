using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Learning;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation.Learning;

/// <summary>
/// The node's side of federated learning as a server component (<c>openspe.fedavg-logistic</c>, FCR-8, FCR-9, TIR-28): a
/// <c>Train</c> stream's opening decrypts the permit's datasets held here into a private scratch copy for the stream's life, opens a
/// <see cref="FedAvgNodeSession"/> on it under this node's policy and its own ledger (<see cref="PrivacyLedgerBooks.Node"/>), and each
/// round releases one clipped, noised integer update. It runs only over <c>Train</c>; as a one-shot task it refuses.
/// </summary>
internal sealed class FedAvgComponent(DecryptedCopies copies, IFederatedData data, HaltRegistry halts, PrivacyLedgers ledgers, ILogger<FedAvgComponent> logger)
    : IFederatedAnalysis, IFederatedTrainer
{
    /// <summary>The component's name, as a permit's <c>approvedComponents</c> and <c>Federation:AllowedComponents</c> list it.</summary>
    public const string ComponentName = "openspe.fedavg-logistic";

    /// <inheritdoc />
    public string Component => ComponentName;

    /// <inheritdoc />
    public Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken) =>
        throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedAnalysisInvalidParameters, $"{ComponentName} runs over Train streams only");

    /// <inheritdoc />
    public async Task<TrainingOpening> OpenAsync(AdmittedTask task, string parametersJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var spec = FedAvgSpecification.FromJson(parametersJson, out var error);
        if (spec is null)
        {
            return TrainingOpening.Refused(ErrorCodes.FederatedAnalysisInvalidParameters, error);
        }

        // Note: checked before any data is decrypted, so a malformed request costs this node nothing.
        if (spec.Validate() is { Count: > 0 } errors)
        {
            return TrainingOpening.Refused(ErrorCodes.FederatedAnalysisInvalidParameters, string.Join("; ", errors));
        }

        var work = halts.TryBeginWork(task.ProjectId);
        if (work is null)
        {
            return TrainingOpening.Refused(ErrorCodes.FederationHalted, "the project or this SPE is halted");
        }

        DecryptedCopies.Lease lease;
        try
        {
            lease = await copies.AcquireAsync(null, task.ProjectId, DatasetScratch.Fill(data, task.ProjectId, task.Datasets), cancellationToken);
        }
        catch (FederatedAnalysisRefusedException refused)
        {
            work.Dispose();
            return TrainingOpening.Refused(refused.Code, refused.Reasons);
        }
        catch
        {
            work.Dispose();
            throw;
        }

        var permit = task.Permit.Document;
        var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(permit.Policies?.Airlock) };
        var budget = PrivacyLedgers.BudgetOf(permit);
        var (session, code, reason) = FedAvgNodeSession.Open(spec, lease.Directory, policy, LearningNodeSettings.Default, ledgers.Node,
            new LedgerScope(permit.Reference, task.Requester, budget), CryptographicRandomSource.Instance, logger);
        if (session is null)
        {
            lease.Release(failed: true);
            work.Dispose();
            return TrainingOpening.Refused(code!, reason!);
        }

        return new TrainingOpening(new Session(session, lease, work), null, null);
    }

    /// <summary>A stream's session: the node's FedAvg session on its scratch copy, stopped by a halt, the copy removed at the end.</summary>
    private sealed class Session(FedAvgNodeSession session, DecryptedCopies.Lease lease, HaltRegistry.ProjectWork work) : ITrainingSession
    {
        public IReadOnlyList<string> Columns => session.Columns;

        public int Rows => session.Rows;

        public CancellationToken Halted => work.Halted;

        public Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken) =>
            session.RoundAsync(round, parameters, cancellationToken);

        public ValueTask DisposeAsync()
        {
            // Note: the copy is the stream's alone, so it goes when the stream ends, whatever the outcome.
            lease.Release(failed: true);
            work.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>A component's local step of federated learning (the node side of a <c>Train</c> stream).</summary>
internal interface IFederatedTrainer
{
    /// <summary>Opens a training session for <paramref name="task"/> with the request's specification (JSON), or refuses.</summary>
    Task<TrainingOpening> OpenAsync(AdmittedTask task, string parametersJson, CancellationToken cancellationToken);
}

/// <summary>An open training session at this node.</summary>
internal interface ITrainingSession : IAsyncDisposable
{
    /// <summary>The model's columns, as R names them.</summary>
    IReadOnlyList<string> Columns { get; }

    /// <summary>The node's complete rows.</summary>
    int Rows { get; }

    /// <summary>Cancelled when the project or the SPE is halted.</summary>
    CancellationToken Halted { get; }

    /// <summary>One round: the global parameters in, the node's clipped noised integer update (or its refusal) out.</summary>
    Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken);
}

/// <summary>The session, or the refusal's code and data-free reason.</summary>
internal sealed record TrainingOpening(ITrainingSession? Session, string? Code, string? Reason)
{
    /// <summary>A refusal with nothing else.</summary>
    public static TrainingOpening Refused(string code, string reason) => new(null, code, reason);
}
