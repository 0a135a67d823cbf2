using OpenSpe.Server.Transfers;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>Per-upload locks: exclusive while held, and gone once nobody holds or awaits them.</summary>
public sealed class UploadLocksTests
{
    [Fact]
    public async Task A_lock_is_exclusive_and_leaves_nothing_behind_once_released()
    {
        var id = "up-" + Guid.NewGuid().ToString("N");
        var first = await UploadLocks.AcquireAsync(id, TestContext.Current.CancellationToken);
        var second = UploadLocks.AcquireAsync(id, TestContext.Current.CancellationToken);
        var tried = UploadLocks.TryAcquire(id);
        var secondWhileHeld = second.IsCompleted;

        first.Dispose();
        using (await second.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken))
        {
            Assert.Null(UploadLocks.TryAcquire(id));
        }

        Assert.Null(tried);
        Assert.False(secondWhileHeld);
        using var again = UploadLocks.TryAcquire(id);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task A_cancelled_wait_gives_up_its_place()
    {
        var id = "up-" + Guid.NewGuid().ToString("N");
        using var cancel = new CancellationTokenSource();
        var held = await UploadLocks.AcquireAsync(id, TestContext.Current.CancellationToken);
        var waiting = UploadLocks.AcquireAsync(id, cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();

        // Note: other tests may hold locks of their own at this moment; this id must simply be free again.
        using var next = UploadLocks.TryAcquire(id);
        Assert.NotNull(next);
    }
}
