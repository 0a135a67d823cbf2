using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The node-wide cap on federated components at work at once (TIR-36): each task's component run (a peer's <c>SubmitTask</c>,
/// this SPE's own share of an analysis it coordinates) and each <c>Train</c> stream's opening and round holds one of
/// <see cref="FederationOptions.MaxRunningComponents"/> slots while it stages data and its sandboxed runner works; the others wait
/// for a slot, at most <see cref="FederationOptions.ComponentQueue"/> of them, and any beyond are refused at once
/// with RESOURCE_EXHAUSTED (<c>SPE7002</c>).
/// </summary>
/// <remarks>
/// Note: waiting rather than refusing within the queue, because a GLM's round lasts milliseconds to seconds and one refused round
/// stops the whole federated fit (<c>SPE7054</c>): a burst becomes latency, bounded by each call's deadline, while the queue's
/// bound keeps what waits (a few objects each, no data, no process) fixed; the place is taken when the task is accepted, so a
/// full node says so to the submitting peer instead of failing the task later.
/// </remarks>
internal sealed class FederatedComponentGate(IOptions<FederationOptions> options) : IDisposable
{
    private readonly int _slots = options.Value.MaxRunningComponents;
    private readonly int _capacity = options.Value.MaxRunningComponents + options.Value.ComponentQueue;
    private readonly SemaphoreSlim _running = new(options.Value.MaxRunningComponents, options.Value.MaxRunningComponents);
    private int _held;

    /// <summary>Components at work now.</summary>
    public int Running => _slots - _running.CurrentCount;

    /// <summary>Places taken (at work or waiting).</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Takes a place in the queue; null when it is full. Wait on the ticket for a slot, and dispose it when done.</summary>
    public Ticket? TryEnter()
    {
        if (Interlocked.Increment(ref _held) > _capacity)
        {
            Interlocked.Decrement(ref _held);
            return null;
        }

        return new Ticket(this);
    }

    public void Dispose() => _running.Dispose();

    /// <summary>A place in the queue, then a slot once <see cref="WaitAsync"/> returns; disposing gives both back.</summary>
    internal sealed class Ticket(FederatedComponentGate gate) : IDisposable
    {
        private int _state; // 0 waiting, 1 holding a slot, 2 done

        /// <summary>Waits for a slot.</summary>
        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            await gate._running.WaitAsync(cancellationToken);
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            {
                gate._running.Release();
            }
        }

        public void Dispose()
        {
            var state = Interlocked.Exchange(ref _state, 2);
            if (state == 2)
            {
                return;
            }

            if (state == 1)
            {
                gate._running.Release();
            }

            Interlocked.Decrement(ref gate._held);
        }
    }
}
