using System.Text.Json;
using Grpc.Core;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.V1;
using FederationApi = OpenSpe.Federation.V1.Federation;
using Library = OpenSpe.Federation.Analyses;

namespace OpenSpe.Server.Federation;

/// <summary>One task this node asked of a node (itself included), for the coordinator's audit record.</summary>
/// <param name="Node">The node asked.</param>
/// <param name="Component">The component.</param>
/// <param name="TaskId">The node's task id, when it accepted one.</param>
/// <param name="Outcome"><c>ok</c>, or the refusal's code.</param>
/// <param name="Reason">The refusal's reasons (data-free), or null.</param>
internal sealed record NodeTaskRecord(string Node, string Component, string? TaskId, string Outcome, string? Reason);

/// <summary>
/// A peer as the coordinator's analyses see it (<see cref="Library.IFederatedNode"/>): each run is <c>SubmitTask</c> then
/// <c>WatchTask</c> to the final event, both with a deadline, over the peer's mutual-TLS channel. The permit travels as the HDAB
/// signed it and the requester as this node asserts it; the peer checks both itself. Every failure becomes a refusal naming
/// a code, so the coordinator reports which node stopped the analysis and why.
/// </summary>
internal sealed class GrpcFederatedNode(string name, FederationApi.FederationClient client, string permit, string requester, TimeSpan deadline,
    Func<NodeTaskRecord, CancellationToken, Task> record, string session = "") : Library.IFederatedNode
{
    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public async Task<AnalysisOutcome> RunAsync(string component, string parametersJson, CancellationToken cancellationToken)
    {
        // Note: gRPC deadlines are wall-clock instants on the wire, so this one is taken from the system clock, not TimeProvider.
        var until = DateTime.UtcNow + deadline;
        string? taskId = null;
        AnalysisOutcome outcome;
        try
        {
            var accepted = await client.SubmitTaskAsync(new TaskRequest { Permit = permit, Requester = requester, Component = component, ParametersJson = parametersJson, Session = session },
                new CallOptions(deadline: until, cancellationToken: cancellationToken));
            taskId = accepted.TaskId;
            using var watch = client.WatchTask(new WatchRequest { TaskId = taskId }, new CallOptions(deadline: until, cancellationToken: cancellationToken));
            TaskEvent? last = null;
            await foreach (var item in watch.ResponseStream.ReadAllAsync(cancellationToken))
            {
                last = item;
            }

            outcome = last?.State switch
            {
                "done" => AnalysisOutcome.Aggregate(last.ResultJson),
                "refused" => Refusal(last.Message, ErrorCodes.FederatedAnalysisInvalidParameters),
                _ => AnalysisOutcome.Refused(ErrorCodes.FederationNodeFailed, last is null ? "the task ended without an answer" : Text(last.Message)),
            };
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var (code, reason) = RefusalOf(ex);
            outcome = AnalysisOutcome.Refused(code, reason);
        }

        await record(new NodeTaskRecord(name, component, taskId, outcome.Refusal?.Code ?? "ok", outcome.Refusal?.Message), CancellationToken.None);
        return outcome;
    }

    /// <summary>A refusal from a message <c>"SPE7052 reasons"</c>; <paramref name="fallback"/> when it carries no code.</summary>
    internal static AnalysisOutcome Refusal(string message, string fallback)
    {
        var space = message.IndexOf(' ', StringComparison.Ordinal);
        return space > 3 && message.StartsWith("SPE", StringComparison.Ordinal)
            ? AnalysisOutcome.Refused(message[..space], message[(space + 1)..])
            : AnalysisOutcome.Refused(fallback, message);
    }

    /// <summary>
    /// A failed call as a refusal: a node's refusal (SPE7010–SPE7018, SPE7021, SPE705x, SPE7080) comes as a status with the code in its
    /// <c>spe-code</c> trailer; anything else is transport (SPE7060).
    /// </summary>
    internal static (string Code, string Reason) RefusalOf(RpcException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var code = ex.Trailers.GetValue("spe-code");
        if (code is not null)
        {
            return (code, Text(ex.Status.Detail));
        }

        // Note: a failure of this node's own client (connection, TLS handshake) carries the exception's text in its detail, which
        // names types and internals; the researcher gets the status and what it means, not that text.
        return ex.Status.DebugException is not null
            ? (ErrorCodes.FederationPeerUnreachable, $"{ex.StatusCode}: the connection to the node failed (network or TLS handshake)")
            : (ErrorCodes.FederationPeerUnreachable, $"{ex.StatusCode}: {Text(ex.Status.Detail)}");
    }

    private static string Text(string detail)
    {
        var space = detail.IndexOf(' ', StringComparison.Ordinal);
        return space > 3 && detail.StartsWith("SPE", StringComparison.Ordinal) ? detail[(space + 1)..] : detail;
    }
}

/// <summary>
/// This node as one of the nodes of its own analysis: the same checks a peer's task passes (<see cref="FederatedTaskChecks"/>:
/// permit, halt, requester, dataset, component approved and allowed), then the component on the datasets held here.
/// </summary>
internal sealed class LocalServerNode(string name, FederatedTaskChecks checks, FederatedComponentGate gate, IFederatedData data, string permit, string requester,
    Func<NodeTaskRecord, CancellationToken, Task> record, string? session = null) : Library.IFederatedNode
{
    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public async Task<AnalysisOutcome> RunAsync(string component, string parametersJson, CancellationToken cancellationToken)
    {
        var outcome = await RunCheckedAsync(component, parametersJson, cancellationToken);
        await record(new NodeTaskRecord(name, component, null, outcome.Refusal?.Code ?? "ok", outcome.Refusal?.Message), CancellationToken.None);
        return outcome;
    }

    private async Task<AnalysisOutcome> RunCheckedAsync(string component, string parametersJson, CancellationToken cancellationToken)
    {
        var (admitted, refusal) = await checks.AdmitAsync(TaskCaller.ThisNode, permit, requester, component, cancellationToken);
        if (refusal is not null)
        {
            return AnalysisOutcome.Refused(refusal.Code, refusal.Message);
        }

        var threshold = admitted!.Permit.Document.Policies?.Airlock?.Threshold ?? new Core.Permits.PermitAirlockRules().Threshold;
        using var parameters = JsonDocument.Parse(parametersJson);
        var context = new FederatedAnalysisContext(admitted.Permit, admitted.ProjectId, admitted.Datasets, parameters.RootElement, threshold, data,
            (_, _) => ValueTask.CompletedTask, session is null ? null : "local\n" + session);
        // Note: this SPE's own share takes a component slot like a peer's task, so the node-wide cap holds whoever asks.
        using var ticket = gate.TryEnter();
        if (ticket is null)
        {
            return AnalysisOutcome.Refused(ErrorCodes.FederationExhausted, "this node's federated components are all at work and its queue for them is full");
        }

        try
        {
            await ticket.WaitAsync(cancellationToken);
            var result = await admitted.Analysis.RunAsync(context, cancellationToken);
            return AnalysisOutcome.Aggregate(result.GetRawText());
        }
        catch (FederatedAnalysisRefusedException refused)
        {
            return AnalysisOutcome.Refused(refused.Code, refused.Reasons);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            // Note: as for a peer's task, the exception's text stays out of the answer.
            return AnalysisOutcome.Refused(ErrorCodes.FederationNodeFailed, "the component failed at this node");
        }
    }
}
