using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The tasks a node runs for its peers. Each task's events wait in a bounded queue (<see cref="FederationOptions.TaskEventBuffer"/>)
/// until its one watcher takes them; when the queue is full the analysis waits, so a slow or absent watcher costs a fixed amount
/// of memory, never more (TIR-36). A task is watched only by the peer that submitted it, and runs at most until
/// <see cref="FederationOptions.MaxDeadline"/>. One peer holds at most <see cref="FederationOptions.PeerMaxTasks"/> tasks, the node
/// at most 1000, and a task's component works only with a slot of <see cref="FederatedComponentGate"/>, its place in whose queue is
/// taken when the task is accepted.
/// </summary>
internal sealed class FederatedTasks(IFederatedData data, HaltRegistry halts, FederatedComponentGate gate, IOptions<FederationOptions> options, ILogger<FederatedTasks> logger)
    : IDisposable
{
    private const int MaxTasks = 1000;

    private readonly ConcurrentDictionary<string, RunningTask> _tasks = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _starting = new();

    /// <summary>Starts an admitted task for <paramref name="peer"/> (one round of <paramref name="session"/>, if any); its id.</summary>
    public string Start(string peer, AdmittedTask admitted, JsonElement parameters, string? session = null)
    {
        ArgumentNullException.ThrowIfNull(admitted);
        var id = "ftk-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        RunningTask task;
        FederatedComponentGate.Ticket? ticket;
        lock (_starting)
        {
            if (_tasks.Count >= MaxTasks)
            {
                throw Exhausted($"this node holds {MaxTasks} tasks already");
            }

            // Note: counted per peer (by its certificate's name) and checked with the insert under one lock, because the node-wide
            // bounds alone would let one allowed peer fill them and starve the others.
            var limit = options.Value.PeerMaxTasks;
            if (_tasks.Values.Count(t => string.Equals(t.Peer, peer, StringComparison.Ordinal)) >= limit)
            {
                throw Exhausted($"this peer holds its maximum of {limit} tasks at this node (running, waiting or not yet watched to the end)");
            }

            ticket = gate.TryEnter() ?? throw Exhausted("this node's federated components are all at work and its queue for them is full");
            task = new RunningTask(id, peer, Channel.CreateBounded<TaskEvent>(new BoundedChannelOptions(options.Value.TaskEventBuffer)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = true,
            }));
            _tasks[id] = task;
        }

        _ = Task.Run(() => RunAsync(task, ticket, admitted, parameters, session));
        return id;
    }

    /// <summary>The task's events for its watcher, or null when <paramref name="peer"/> has no such unwatched task.</summary>
    public ChannelReader<TaskEvent>? Watch(string peer, string taskId)
    {
        if (!_tasks.TryGetValue(taskId, out var task) || !string.Equals(task.Peer, peer, StringComparison.Ordinal) || Interlocked.Exchange(ref task.Watched, 1) == 1)
        {
            return null;
        }

        return task.Events.Reader;
    }

    /// <summary>Forgets a task once its watcher is done with it, stopping it if it still runs (nobody would read its result).</summary>
    public void Release(string taskId)
    {
        if (_tasks.TryRemove(taskId, out var task))
        {
            task.Stop();
            task.Dispose();
        }
    }

    /// <summary>Tasks held now (running, or ended and not yet watched to the end).</summary>
    public int Count => _tasks.Count;

    private static RpcException Exhausted(string message) =>
        new(new Status(StatusCode.ResourceExhausted, $"{ErrorCodes.FederationExhausted} {message}"), new Metadata { { "spe-code", ErrorCodes.FederationExhausted } });

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private async Task RunAsync(RunningTask task, FederatedComponentGate.Ticket ticket, AdmittedTask admitted, JsonElement parameters, string? session)
    {
        using var slot = ticket;
        var writer = task.Events.Writer;
        long sequence = 0;
        TaskEvent Event(string state, string message = "", string result = "") =>
            new() { TaskId = task.Id, Sequence = ++sequence, State = state, Message = message, ResultJson = result };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, task.Stopping);
        timeout.CancelAfter(options.Value.MaxDeadline);
        try
        {
            // Note: the task is registered as the project's work, so a halt of the project or of the SPE stops it at once.
            using var work = halts.TryBeginWork(admitted.ProjectId);
            if (work is null)
            {
                await writer.WriteAsync(Event("failed", $"{ErrorCodes.FederationHalted} the project or this SPE is halted"), timeout.Token);
                return;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, work.Halted);
            // Note: "running" only once the component has a slot, so a peer can tell a queued task from one at work.
            await ticket.WaitAsync(linked.Token);
            await writer.WriteAsync(Event("running"), linked.Token);
            var threshold = admitted.Permit.Document.Policies?.Airlock?.Threshold ?? new Core.Permits.PermitAirlockRules().Threshold;
            var context = new FederatedAnalysisContext(admitted.Permit, admitted.ProjectId, admitted.Datasets, parameters, threshold, data,
                (message, token) => writer.WriteAsync(Event("progress", message), token), session);
            var result = await admitted.Analysis.RunAsync(context, linked.Token);
            // Note: the slot goes back before the result waits for its watcher, so a peer that never watches holds its task's
            // place (PeerMaxTasks) but no component slot.
            ticket.Dispose();
            await writer.WriteAsync(Event("done", result: result.GetRawText()), linked.Token);
        }
        catch (FederatedAnalysisRefusedException refused)
        {
            // Note: a component's refusal (a disclosure trap, bad parameters) travels as its code and data-free reasons, and
            // nothing else: the aggregate was never built.
            _ = writer.TryWrite(Event("refused", $"{refused.Code} {refused.Reasons}"));
        }
        catch (OperationCanceledException)
        {
            _ = writer.TryWrite(Event("failed", "the task was stopped (halt, deadline or shutdown)"));
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or JsonException or ArgumentException or CryptographicException)
        {
            FederationLog.TaskFailed(logger, ex, task.Id, admitted.Analysis.Component);
            // Note: the exception's text stays in this node's log; a peer learns only that the component failed.
            _ = writer.TryWrite(Event("failed", "the component failed at this node"));
        }
        finally
        {
            writer.TryComplete();
            if (Volatile.Read(ref task.Watched) == 0)
            {
                // Note: an ended task nobody watches is kept only for the deadline, so unwatched tasks cannot pile up.
                _ = Task.Delay(options.Value.MaxDeadline, _stopping.Token).ContinueWith(_ => Release(task.Id), TaskScheduler.Default);
            }
        }
    }

    private sealed class RunningTask(string id, string peer, Channel<TaskEvent> events) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        public int Watched;

        public CancellationToken Stopping => _stop.Token;

        public void Dispose() => _stop.Dispose();

        public void Stop()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public string Id { get; } = id;

        public string Peer { get; } = peer;

        public Channel<TaskEvent> Events { get; } = events;
    }
}
