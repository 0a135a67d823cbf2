using System.Reflection;
using System.Text.Json;
using Grpc.Core;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Federation.V1;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Federation;

/// <summary>
/// <c>openspe.federation.v1.Federation</c> (TIR-28, TIR-29), served only on the federation listener; the interceptor has named the
/// peer, checked the deadline and the limits before any of these runs, and records each call after it.
/// </summary>
internal sealed class FederationGrpcService(FederationNodeIdentity node, FederatedTaskChecks checks, FederatedTasks tasks) : FederationApi.FederationBase
{
    private static readonly string Version = typeof(FederationGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public override async Task<Capabilities> GetCapabilities(CapabilitiesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var answer = new Capabilities { Node = node.Name, Version = Version };
        answer.Components.AddRange(checks.Components);
        if (checks.Identity is { } identity)
        {
            answer.ComponentIdentities.AddRange(checks.Components.Select(c => new ComponentIdentity { Name = c, Version = identity.Version, Sha256 = identity.Sha256 }));
        }
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

        var (admitted, refusal) = await checks.AdmitAsync(TaskCaller.FromPeer(call.Peer), request.Permit, request.Requester, request.Component, context.CancellationToken);
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
        var (admitted, refusal) = await checks.AdmitAsync(TaskCaller.FromPeer(call.Peer), open.Permit, open.Requester, open.Component, context.CancellationToken);
        if (refusal is not null)
        {
            throw refusal.ToException();
        }

        call.Permit = admitted!.Permit.PermitId;
        if (admitted.Analysis is not IFederatedTrainer trainer)
        {
            throw Refused(StatusCode.FailedPrecondition, ErrorCodes.FederatedAnalysisInvalidParameters, $"component '{open.Component}' has no training step");
        }

        var opening = await trainer.OpenAsync(admitted, open.ParametersJson, context.CancellationToken);
        if (opening.Session is not { } session)
        {
            throw Refused(opening.Code == ErrorCodes.FederationExhausted ? StatusCode.ResourceExhausted : StatusCode.FailedPrecondition, opening.Code!, opening.Reason!);
        }

        await using (session)
        {
            // Note: a halt ends the stream at once, whatever round it is in (OPR-20).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, session.Halted);
            var opened = new TrainMessage { Kind = "opened", Component = open.Component, Count = session.Rows };
            opened.Columns.AddRange(session.Columns);
            await responseStream.WriteAsync(opened, stop.Token);
            var rounds = 0;
            try
            {
                while (await requestStream.MoveNext(stop.Token))
                {
                    var message = requestStream.Current;
                    if (message.Kind == "close")
                    {
                        break;
                    }

                    if (message.Kind != "round" || message.Parameters.Count != session.Columns.Count)
                    {
                        throw Refused(StatusCode.InvalidArgument, ErrorCodes.FederatedAnalysisInvalidParameters,
                            $"a Train message after 'open' is a 'round' with {session.Columns.Count} parameters, or 'close'");
                    }

                    var update = await session.RoundAsync(message.Round, [.. message.Parameters], stop.Token);
                    if (update.IsRefused)
                    {
                        call.Reason = $"{rounds} rounds, then {update.Code}";
                        throw Refused(update.Code is ErrorCodes.FederatedLearningBudgetExhausted or ErrorCodes.FederationExhausted ? StatusCode.ResourceExhausted : StatusCode.FailedPrecondition,
                            update.Code!, update.Reason!);
                    }

                    var answer = new TrainMessage { Kind = "update", Round = message.Round };
                    answer.Update.AddRange(update.Update!);
                    await responseStream.WriteAsync(answer, stop.Token);
                    rounds++;
                }
            }
            catch (OperationCanceledException) when (session.Halted.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
            {
                throw Refused(StatusCode.FailedPrecondition, ErrorCodes.FederationHalted, "the project or this SPE was halted");
            }

            call.Reason ??= $"{rounds} rounds";
        }
    }

    private static RpcException Refused(StatusCode status, string code, string message) => new TaskRefusal(status, code, message).ToException();
}
