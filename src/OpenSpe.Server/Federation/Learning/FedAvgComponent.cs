using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Learning;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation.Learning;

/// <summary>
/// The node's side of federated learning as a server component (<c>openspe.fedavg-logistic</c>, FCR-8, FCR-9, TIR-28, FSPER-4): a
/// <c>Train</c> stream's opening stages the permit's datasets held here as the project's plaintext (a lease held for the stream's
/// life), starts the runner in the project's sandbox for the stream (<see cref="FederatedComponentSandbox.StartSessionAsync"/>), which
/// builds the local model there; each round the node reserves the round's ρ on its own ledger (<see cref="PrivacyLedgerBooks.Node"/>),
/// asks the sandbox for the clipped integer update, checks its length and exact L2 bound, draws the discrete Gaussian noise here, in
/// the server, and releases the noised update (<see cref="FedAvgNodeSession.Over"/>). It runs only over <c>Train</c>; as a one-shot task it refuses.
/// </summary>
/// <remarks>
/// Note: the noise and the ledger stay outside the sandbox, because the privacy guarantee must not depend on what runs on the
/// rows: whatever the local step answers, nothing beyond the clipping bound leaves, and never without its noise.
/// </remarks>
internal sealed class FedAvgComponent(DecryptedCopies copies, FederatedComponentSandbox sandbox, FederatedComponentGate gate, HaltRegistry halts, PrivacyLedgers ledgers,
    ILogger<FedAvgComponent> logger)
    : IFederatedAnalysis, IFederatedTrainer
{
    /// <summary>The component's name, as a permit's <c>approvedComponents</c> and <c>Federation:AllowedComponents</c> list it.</summary>
    public const string ComponentName = RunnerProtocol.LearningComponent;

    private const int MaxColumns = 1000;

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

        DecryptedCopies.Lease? lease = null;
        ComponentSession? process = null;
        // Note: the opening (decryption, the runner's start, the local model) holds a component slot like a task; each round takes
        // one again (SandboxSteps), and between rounds the stream's runner holds none (PeerMaxStreams bounds those streams).
        using var ticket = gate.TryEnter();
        try
        {
            if (ticket is null)
            {
                throw new FederatedAnalysisRefusedException(ErrorCodes.FederationExhausted, "this node's federated components are all at work and its queue for them is full");
            }

            await ticket.WaitAsync(cancellationToken);
            sandbox.EnsureAvailable();
            lease = await copies.AcquireStagedAsync(null, task.ProjectId, token => sandbox.StageAsync(task.ProjectId, task.Datasets, token), cancellationToken);
            process = await sandbox.StartSessionAsync(task.ProjectId, lease.Plaintext, cancellationToken);
            var permit = task.Permit.Document;
            var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(permit.Policies?.Airlock) };
            var answer = await process.ExchangeAsync(new RunnerRequest
            {
                Component = ComponentName,
                Parameters = JsonSerializer.Deserialize<JsonElement>(parametersJson),
                Datasets = task.Datasets,
                Policy = policy,
            }, ComponentName, cancellationToken);
            var (code, reason) = answer switch
            {
                { Refused: { } refused } => (refused.Code, string.Join("; ", refused.Reasons)),
                { Opened: { } o } when o.Columns.Count is 0 or > MaxColumns || o.Columns.Any(c => string.IsNullOrEmpty(c) || c.Length > 200) || o.Rows < 0 =>
                    (ErrorCodes.FederatedComponentOutputRefused, "the component's opening is not of its declared shape; nothing of it was released"),
                // Note: checked again here, outside the sandbox, because the row count leaves the node with the opening.
                { Opened: { } o } when o.Rows < policy.Disclosure.Threshold => (ErrorCodes.FederatedAnalysisDisclosureTrap, $"fewer complete rows than the threshold {policy.Disclosure.Threshold}"),
                { Opened: not null } => (null, null),
                _ => (ErrorCodes.FederatedComponentOutputRefused, "the component did not open a session; nothing was released"),
            };
            if (code is not null)
            {
                throw new FederatedAnalysisRefusedException(code, reason!);
            }

            var budget = PrivacyLedgers.BudgetOf(permit);
            var (session, sessionCode, sessionReason) = FedAvgNodeSession.Over(spec, new SandboxSteps(process, answer.Opened!, gate), LearningNodeSettings.Default, ledgers.Node,
                new LedgerScope(permit.Reference, task.Requester, budget), CryptographicRandomSource.Instance, logger);
            if (session is null)
            {
                throw new FederatedAnalysisRefusedException(sessionCode!, sessionReason!);
            }

            var opened = new TrainingOpening(new Session(session, answer.Opened!, process, lease, work), null, null);
            (process, lease, work) = (null, null, null);
            return opened;
        }
        catch (FederatedAnalysisRefusedException refused)
        {
            return TrainingOpening.Refused(refused.Code, refused.Reasons);
        }
        finally
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }

            lease?.Release(failed: true);
            work?.Dispose();
        }
    }

    /// <summary>The local step in the sandbox: one exchange per round, its units or its refusal.</summary>
    private sealed class SandboxSteps(ComponentSession process, RunnerOpened opened, FederatedComponentGate gate) : IClippedUpdateSource
    {
        public IReadOnlyList<string> Columns => opened.Columns;

        public int Rows => opened.Rows;

        public async Task<LearnerRound> ClippedUnitsAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
        {
            using var ticket = gate.TryEnter();
            if (ticket is null)
            {
                return LearnerRound.Refused(ErrorCodes.FederationExhausted, "this node's federated components are all at work and its queue for them is full");
            }

            try
            {
                await ticket.WaitAsync(cancellationToken);
                return await process.ExchangeAsync(new RunnerRound(round, parameters), ComponentName, cancellationToken) switch
                {
                    { Units: { } units } => new LearnerRound(units, null, null),
                    { Refused: { } refused } => LearnerRound.Refused(refused.Code, string.Join("; ", refused.Reasons)),
                    _ => LearnerRound.Refused(ErrorCodes.FederatedComponentOutputRefused, "the component's round answer is not an update; nothing of it was released"),
                };
            }
            catch (FederatedAnalysisRefusedException refused)
            {
                return LearnerRound.Refused(refused.Code, refused.Reasons);
            }
        }
    }

    /// <summary>A stream's session: the node's FedAvg session over the sandbox's local step, stopped by a halt, the plaintext released at the end.</summary>
    private sealed class Session(FedAvgNodeSession session, RunnerOpened opened, ComponentSession process, DecryptedCopies.Lease lease, HaltRegistry.ProjectWork work) : ITrainingSession
    {
        public IReadOnlyList<string> Columns => opened.Columns;

        public int Rows => opened.Rows;

        public CancellationToken Halted => work.Halted;

        public Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken) =>
            session.RoundAsync(round, parameters, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            // Note: the sandbox and the lease are the stream's alone, so they go when the stream ends, whatever the outcome.
            await process.DisposeAsync();
            lease.Release(failed: true);
            work.Dispose();
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
