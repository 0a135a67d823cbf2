using System.Reflection;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Options;
using OpenSpe.Federation.V1;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Federation;

/// <summary>
/// <c>openspe.federation.v1.Federation</c> (TIR-28, TIR-29), served only on the federation listener; the interceptor has named the
/// peer, checked the deadline and the limits before any of these runs, and records each call after it.
/// </summary>
internal sealed class FederationGrpcService(FederationNodeIdentity node, FederatedTaskChecks checks, FederatedTasks tasks, IOptions<FederationOptions> options) : FederationApi.FederationBase
{
    private static readonly string Version = typeof(FederationGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public override async Task<Capabilities> GetCapabilities(CapabilitiesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var answer = new Capabilities { Node = node.Name, Version = Version };
        answer.Components.AddRange(checks.Components);
        if (!string.IsNullOrEmpty(request.Permit))
        {
            var (permit, held, refusal) = await checks.PermitAsync(request.Permit);
            FederationCall.Of(context).Permit = permit?.PermitId;
            if (refusal is not null)
            {
                throw refusal.ToException();
            }

            answer.Datasets.AddRange(held);
        }

        return answer;
    }

    public override async Task<TaskAccepted> SubmitTask(TaskRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var call = FederationCall.Of(context);
        call.Component = request.Component;
        call.Requester = request.Requester;
        JsonElement parameters;
        try
        {
            parameters = string.IsNullOrWhiteSpace(request.ParametersJson) ? JsonSerializer.SerializeToElement(new { }) : JsonSerializer.Deserialize<JsonElement>(request.ParametersJson);
        }
        catch (JsonException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "parameters_json is not JSON"));
        }

        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "parameters_json must be a JSON object"));
        }

        if (request.Session.Length != 0 && !IsSession(request.Session))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{ErrorCodes.FederationSessionMalformed} session must be 16 to 64 lower-case hex digits"),
                new Metadata { { "spe-code", ErrorCodes.FederationSessionMalformed } });
        }

        var (admitted, refusal) = await checks.AdmitAsync(request.Permit, request.Requester, request.Component, context.CancellationToken);
        if (refusal is not null)
        {
            throw refusal.ToException();
        }

        call.Permit = admitted!.Permit.PermitId;
        // Note: the session is scoped by the calling peer's certificate name, so one peer can never reach another's decrypted copy.
        var id = tasks.Start(call.Peer, admitted, parameters, request.Session.Length == 0 ? null : $"{call.Peer}\n{request.Session}");
        call.TaskId = id;
        return new TaskAccepted { TaskId = id };
    }

    private static bool IsSession(string session) => session.Length is >= 16 and <= 64 && session.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    public override async Task WatchTask(WatchRequest request, IServerStreamWriter<TaskEvent> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var call = FederationCall.Of(context);
        call.TaskId = request.TaskId;
        var events = tasks.Watch(call.Peer, request.TaskId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"{ErrorCodes.FederationTaskUnknown} no such task for this peer, or it is watched already"));
        try
        {
            // Note: one event at a time, each write awaiting HTTP/2 flow control; the task's queue is bounded, so a slow reader
            // holds the task back instead of making this node buffer.
            await foreach (var item in events.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(item, context.CancellationToken);
            }
        }
        finally
        {
            tasks.Release(request.TaskId);
        }
    }

    public override async Task Train(IAsyncStreamReader<TrainMessage> requestStream, IServerStreamWriter<TrainMessage> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var call = FederationCall.Of(context);
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.Kind != "open")
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a Train stream opens with a message of kind 'open'"));
        }

        var open = requestStream.Current;
        call.Component = open.Component;
        call.Requester = open.Requester;
        var (admitted, refusal) = await checks.AdmitAsync(open.Permit, open.Requester, open.Component, context.CancellationToken);
        if (refusal is not null)
        {
            throw refusal.ToException();
        }

        call.Permit = admitted!.Permit.PermitId;
        if (admitted.Analysis is not IFederatedTrainer trainer)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"component '{open.Component}' has no training step"));
        }

        await responseStream.WriteAsync(new TrainMessage { Kind = "opened", Component = open.Component }, context.CancellationToken);
        var rounds = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var message = requestStream.Current;
            if (message.Kind == "close")
            {
                break;
            }

            if (message.Kind != "round" || message.Parameters.Count > options.Value.MaxMessageBytes / sizeof(double))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "a Train message after 'open' is a 'round' or 'close'"));
            }

            var update = await trainer.RoundAsync(admitted, message.Round, [.. message.Parameters], context.CancellationToken);
            var answer = new TrainMessage { Kind = "update", Round = message.Round, Count = update.Count };
            answer.Parameters.AddRange(update.Parameters);
            await responseStream.WriteAsync(answer, context.CancellationToken);
            rounds++;
        }

        call.Reason = $"{rounds} rounds";
    }
}

/// <summary>A component's local step of a learning round: the global parameters in, a local update and its row count out.</summary>
internal interface IFederatedTrainer
{
    /// <summary>One round on local data.</summary>
    Task<(IReadOnlyList<double> Parameters, long Count)> RoundAsync(AdmittedTask task, int round, IReadOnlyList<double> parameters, CancellationToken cancellationToken);
}
