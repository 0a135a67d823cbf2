using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>
/// A fake clock that tells the test when the code under test starts waiting on it, so the test moves time on only
/// then and by exactly the wait, instead of advancing in steps on a real-time loop and hoping a poll fell between.
/// </summary>
internal sealed class TimerAwareTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private static readonly TimeSpan RealTimeBound = TimeSpan.FromSeconds(30);
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _created.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>
    /// Until <paramref name="work"/> completes: waits for it to start a timer, then advances the clock by that
    /// timer's due time. Returns the fake time that passed. Fails after <paramref name="maxTimers"/> timers, or when
    /// the work neither completes nor waits within 30 s of real time (a hang, not a slow machine).
    /// </summary>
    public async Task<TimeSpan> AdvanceUntilDoneAsync(Task work, int maxTimers, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(RealTimeBound);
        var passed = TimeSpan.Zero;
        for (var timers = 0; timers < maxTimers; timers++)
        {
            var next = _created.Reader.ReadAsync(bound.Token).AsTask();
            if (await Task.WhenAny(work, next) == work)
            {
                await bound.CancelAsync();
                return passed;
            }

            TimeSpan dueTime;
            try
            {
                dueTime = await next;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the work neither completed nor waited on the clock within {RealTimeBound.TotalSeconds} s");
            }

            Advance(dueTime);
            passed += dueTime;
        }

        throw new InvalidOperationException($"the work started {maxTimers} timers without completing");
    }
}
