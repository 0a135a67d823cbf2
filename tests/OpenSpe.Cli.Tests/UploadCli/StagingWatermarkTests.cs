using OpenSpe.Cli.Client;
using OpenSpe.Cli.Transfers;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>The watermark an upload waits on while the staged copy is still being written.</summary>
public sealed class StagingWatermarkTests
{
    [Fact]
    public async Task A_reader_waits_until_its_range_is_written_and_no_longer()
    {
        using var watermark = new StagingWatermark();
        var waiting = watermark.WaitForAsync(100, TestContext.Current.CancellationToken).AsTask();

        watermark.Advance(60);
        var afterSixty = waiting.IsCompleted;
        watermark.Advance(40);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.False(afterSixty);
        Assert.Equal(100, watermark.Written);
        Assert.True(watermark.WaitForAsync(100, TestContext.Current.CancellationToken).AsTask().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_failed_writer_fails_every_reader_and_cancels_its_token()
    {
        using var watermark = new StagingWatermark();
        var waiting = watermark.WaitForAsync(10, TestContext.Current.CancellationToken).AsTask();

        watermark.Fail(new IOException("disk full"));

        var error = await Assert.ThrowsAsync<SpeClientException>(() => waiting);
        Assert.Contains("disk full", error.Message, StringComparison.Ordinal);
        Assert.True(watermark.Failed.IsCancellationRequested);
        await Assert.ThrowsAsync<SpeClientException>(() => watermark.WaitForAsync(1, TestContext.Current.CancellationToken).AsTask());
    }

    [Fact]
    public async Task A_copy_that_ends_short_fails_a_reader_that_wants_more()
    {
        using var watermark = new StagingWatermark();
        watermark.Advance(5);

        watermark.Complete();

        await watermark.WaitForAsync(5, TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<SpeClientException>(() => watermark.WaitForAsync(6, TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("ended at byte 5", error.Message, StringComparison.Ordinal);
    }
}
