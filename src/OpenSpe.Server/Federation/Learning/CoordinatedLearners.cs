using Grpc.Core;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Learning;
using OpenSpe.Federation.V1;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Federation.Learning;

/// <summary>What the coordinator needs for a <c>Train</c> run: the learners (dispose them), the permit as this SPE holds it, the requester.</summary>
internal sealed record LearningPlan(IReadOnlyList<CoordinatedLearner> Learners, Core.Permits.PermitDocument Document, string Requester) : IAsyncDisposable
{
    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var learner in Learners)
        {
            await learner.DisposeAsync();
        }
    }
}

/// <summary>A node of a coordinated training run; the coordinator's audit record is written when it opens and when it ends.</summary>
internal abstract class CoordinatedLearner(string name, Func<NodeTaskRecord, CancellationToken, Task> record) : IFederatedLearner, IAsyncDisposable
{
    private string _outcome = "ok";
    private string? _reason;
    private int _rounds;
    private bool _opened;

    /// <inheritdoc />
    public string Name => name;

    /// <summary>Where each answer is reported while the run goes on (the caller asked for progress lines), or null.</summary>
    public FederatedProgress? Progress { get; set; }

    /// <inheritdoc />
    public async Task<LearnerOpening> OpenAsync(FedAvgSpecification specification, string permit, string requester, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(specification);
        var opening = await OpenCoreAsync(specification, requester, cancellationToken);
        _opened = !opening.IsRefused;
        if (opening.IsRefused)
        {
            (_outcome, _reason) = (opening.Code!, opening.Reason);
        }

        if (Progress is not null)
        {
            await Progress.NodeAsync(name, 0, opening.IsRefused ? "refused" : "opened", opening.Code);
        }

        return opening;
    }

    /// <inheritdoc />
    public async Task<LearnerRound> RoundAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
    {
        var answer = await RoundCoreAsync(round, parameters, cancellationToken);
        if (answer.IsRefused)
        {
            (_outcome, _reason) = (answer.Code!, $"round {round}: {answer.Reason}");
        }
        else
        {
            _rounds = round;
        }

        if (Progress is not null)
        {
            await Progress.NodeAsync(name, round, answer.IsRefused ? "refused" : "ok", answer.Code);
        }

        return answer;
    }

    /// <summary>Ends the node's session and records how it went (opened or not, rounds released, refusal).</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        var reason = _opened ? $"{_rounds} rounds" + (_reason is null ? "" : $"; {_reason}") : _reason;
        await record(new NodeTaskRecord(name, FedAvgComponent.ComponentName, null, _outcome, reason), CancellationToken.None);
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the node's session.</summary>
    protected abstract Task<LearnerOpening> OpenCoreAsync(FedAvgSpecification specification, string requester, CancellationToken cancellationToken);

    /// <summary>One round at the node.</summary>
    protected abstract Task<LearnerRound> RoundCoreAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken);

    /// <summary>Ends the node's session.</summary>
    protected abstract ValueTask CloseAsync();
}

/// <summary>
/// A peer as a learner: one <c>Train</c> stream over its mutual-TLS channel, with a deadline for the whole run; open, then one
/// message per round each way. The peer checks the permit, the requester, its data and the component itself, and keeps its own
/// ledger; a refusal ends the stream with the code in its trailer.
/// </summary>
internal sealed class GrpcFederatedLearner(string name, FederationApi.FederationClient client, string permit, TimeSpan deadline,
    Func<NodeTaskRecord, CancellationToken, Task> record) : CoordinatedLearner(name, record)
{
    private AsyncDuplexStreamingCall<TrainMessage, TrainMessage>? _call;

    protected override async Task<LearnerOpening> OpenCoreAsync(FedAvgSpecification specification, string requester, CancellationToken cancellationToken)
    {
        try
        {
            // Note: gRPC deadlines are wall-clock instants on the wire, so this one is taken from the system clock, not TimeProvider.
            _call = client.Train(new CallOptions(deadline: DateTime.UtcNow + deadline, cancellationToken: cancellationToken));
            await _call.RequestStream.WriteAsync(new TrainMessage
            {
                Kind = "open",
                Permit = permit,
                Requester = requester,
                Component = FedAvgComponent.ComponentName,
                ParametersJson = specification.ToJson(),
            }, cancellationToken);
            if (!await _call.ResponseStream.MoveNext(cancellationToken) || _call.ResponseStream.Current.Kind != "opened")
            {
                return LearnerOpening.Refused(ErrorCodes.FederationNodeFailed, "the node did not open the session");
            }

            var opened = _call.ResponseStream.Current;
            return opened.Count is < 0 or > int.MaxValue
                ? LearnerOpening.Refused(ErrorCodes.FederationNodeFailed, "the node's row count is out of range")
                : new LearnerOpening([.. opened.Columns], (int)opened.Count, null, null);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var (code, reason) = GrpcFederatedNode.RefusalOf(ex);
            return LearnerOpening.Refused(code, reason);
        }
    }

    protected override async Task<LearnerRound> RoundCoreAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
    {
        if (_call is null)
        {
            return LearnerRound.Refused(ErrorCodes.FederatedAnalysisInvalidParameters, "no open session");
        }

        try
        {
            var message = new TrainMessage { Kind = "round", Round = round };
            message.Parameters.AddRange(parameters);
            await _call.RequestStream.WriteAsync(message, cancellationToken);
            if (!await _call.ResponseStream.MoveNext(cancellationToken) || _call.ResponseStream.Current is not { Kind: "update" } update || update.Round != round)
            {
                return LearnerRound.Refused(ErrorCodes.FederationNodeFailed, "the node answered the round with something else than its update");
            }

            return new LearnerRound([.. update.Update], null, null);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var (code, reason) = GrpcFederatedNode.RefusalOf(ex);
            return LearnerRound.Refused(code, reason);
        }
    }

    protected override async ValueTask CloseAsync()
    {
        if (_call is null)
        {
            return;
        }

        try
        {
            await _call.RequestStream.WriteAsync(new TrainMessage { Kind = "close" });
            await _call.RequestStream.CompleteAsync();
            // Note: read to the end so the node's own status (and audit record) is final before the stream is dropped.
            while (await _call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The stream already ended with the node's refusal, which the round reported.
        }

        _call.Dispose();
    }
}

/// <summary>
/// This node as a learner of its own run: the same checks a peer's <c>Train</c> stream passes (<see cref="FederatedTaskChecks"/>),
/// then its training session on the datasets held here, charged to its own node ledger.
/// </summary>
internal sealed class LocalServerLearner(string name, FederatedTaskChecks checks, string permit, Func<NodeTaskRecord, CancellationToken, Task> record)
    : CoordinatedLearner(name, record)
{
    private ITrainingSession? _session;

    protected override async Task<LearnerOpening> OpenCoreAsync(FedAvgSpecification specification, string requester, CancellationToken cancellationToken)
    {
        var (admitted, refusal) = await checks.AdmitAsync(TaskCaller.ThisNode, permit, requester, FedAvgComponent.ComponentName, cancellationToken);
        if (refusal is not null)
        {
            return LearnerOpening.Refused(refusal.Code, refusal.Message);
        }

        if (admitted!.Analysis is not IFederatedTrainer trainer)
        {
            return LearnerOpening.Refused(ErrorCodes.FederatedAnalysisInvalidParameters, "the component has no training step");
        }

        var opening = await trainer.OpenAsync(admitted, specification.ToJson(), cancellationToken);
        _session = opening.Session;
        return _session is null ? LearnerOpening.Refused(opening.Code!, opening.Reason!) : new LearnerOpening(_session.Columns, _session.Rows, null, null);
    }

    protected override async Task<LearnerRound> RoundCoreAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken)
    {
        if (_session is null)
        {
            return LearnerRound.Refused(ErrorCodes.FederatedAnalysisInvalidParameters, "no open session");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _session.Halted);
        try
        {
            return await _session.RoundAsync(round, parameters, stop.Token);
        }
        catch (OperationCanceledException) when (_session.Halted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return LearnerRound.Refused(ErrorCodes.FederationHalted, "the project or this SPE was halted");
        }
    }

    protected override async ValueTask CloseAsync()
    {
        if (_session is not null)
        {
            await _session.DisposeAsync();
        }
    }
}

/// <summary>A node the permit names that this SPE has no address for: it refuses to open with SPE7061.</summary>
internal sealed class UnknownPeerLearner(string name, Func<NodeTaskRecord, CancellationToken, Task> record) : CoordinatedLearner(name, record)
{
    protected override Task<LearnerOpening> OpenCoreAsync(FedAvgSpecification specification, string requester, CancellationToken cancellationToken) =>
        Task.FromResult(LearnerOpening.Refused(ErrorCodes.FederationPeerUnknown, $"this SPE has no address for node '{Name}' (Federation:Peers)"));

    protected override Task<LearnerRound> RoundCoreAsync(int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken) =>
        Task.FromResult(LearnerRound.Refused(ErrorCodes.FederationPeerUnknown, "no session"));

    protected override ValueTask CloseAsync() => ValueTask.CompletedTask;
}
