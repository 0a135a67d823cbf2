using System.Text;
using OpenSpe.Cli.Commands;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// A job's log stream that the server cuts (a halt resets the connection) ends the reading as a cut stream, which
/// <c>spe job run</c> and <c>spe job logs --follow</c> report in words ("cut off before the job ended … halted"), never as
/// the transport's error.
/// </summary>
public sealed class JobLogCutTests
{
    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_connection_reset_mid_stream_reads_as_the_end_of_the_stream()
    {
        using var reader = new StreamReader(new ResettingStream("{\"stream\":\"stdout\",\"text\":\"a\"}\n"u8.ToArray()));

        var first = await JobCommands.ReadLineOrCutAsync(reader, TestContext.Current.CancellationToken);
        var cut = await JobCommands.ReadLineOrCutAsync(reader, TestContext.Current.CancellationToken);

        Assert.Equal("{\"stream\":\"stdout\",\"text\":\"a\"}", first);
        Assert.Null(cut);
    }

    [Fact]
    public async Task A_cancelled_read_is_not_taken_for_a_cut()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        using var reader = new StreamReader(new ResettingStream(Encoding.UTF8.GetBytes("x\n")));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => JobCommands.ReadLineOrCutAsync(reader, cancel.Token));
    }

    /// <summary>Gives its bytes, then fails as a connection reset by the peer does.</summary>
    private sealed class ResettingStream(byte[] content) : MemoryStream(content)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position < Length ? base.ReadAsync(buffer, cancellationToken) : throw new IOException("Unable to read data from the transport connection: Connection reset by peer.");

        public override int Read(byte[] buffer, int offset, int count) =>
            Position < Length ? base.Read(buffer, offset, count) : throw new IOException("Connection reset by peer.");
    }
}
