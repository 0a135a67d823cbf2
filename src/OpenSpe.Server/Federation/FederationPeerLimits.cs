using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Per-peer flow control (TIR-36): a token bucket of calls per peer, and a cap on the streams one peer holds open at once.
/// Both answer at once (no queueing), so an overloading peer is refused with RESOURCE_EXHAUSTED rather than slowing the others.
/// </summary>
internal sealed class FederationPeerLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _calls;
    private readonly ConcurrentDictionary<string, StrongBox> _streams = new(StringComparer.Ordinal);
    private readonly int _maxStreams;

    public FederationPeerLimits(IOptions<FederationOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _maxStreams = o.PeerMaxStreams;
        _calls = PartitionedRateLimiter.Create<string, string>(peer => RateLimitPartition.GetTokenBucketLimiter(peer, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = o.PeerBurst,
            TokensPerPeriod = o.PeerCallsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Takes one call from the peer's bucket; false when it is empty.</summary>
    public bool TryCall(string peer)
    {
        using var lease = _calls.AttemptAcquire(peer);
        return lease.IsAcquired;
    }

    /// <summary>Opens a stream for the peer; null when it holds its maximum already. Dispose to close it.</summary>
    public IDisposable? TryOpenStream(string peer)
    {
        var count = _streams.GetOrAdd(peer, _ => new StrongBox());
        if (Interlocked.Increment(ref count.Value) > _maxStreams)
        {
            Interlocked.Decrement(ref count.Value);
            return null;
        }

        return new StreamLease(count);
    }

    public void Dispose() => _calls.Dispose();

    private sealed class StrongBox
    {
        public int Value;
    }

    private sealed class StreamLease(StrongBox count) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref count.Value);
            }
        }
    }
}
