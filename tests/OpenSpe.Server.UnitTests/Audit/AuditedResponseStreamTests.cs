using Microsoft.AspNetCore.Http;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.UnitTests.Audit;

/// <summary>
/// The byte count of a streaming answer's closed record. A client that reads what was sent and leaves cancels the write
/// after its bytes left the server; the count must still include them (the integration test of the same case only
/// meets this race now and then).
/// </summary>
public sealed class AuditedResponseStreamTests
{
    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task Bytes_whose_write_is_cancelled_after_they_left_are_counted()
    {
        var connection = new LeavesThenCancels();
        var stream = new AuditedResponseStream(connection, new DefaultHttpContext().Response, (_, _) => Task.CompletedTask);

        await stream.WriteAsync(new byte[4_000], TestContext.Current.CancellationToken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.WriteAsync(new byte[6_000], TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(10_000, connection.Left);
        Assert.Equal(10_000, stream.BytesSent);
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task An_error_answer_is_held_and_not_counted_as_streamed()
    {
        var connection = new LeavesThenCancels();
        var context = new DefaultHttpContext();
        context.Response.StatusCode = 403;
        var stream = new AuditedResponseStream(connection, context.Response, (_, _) => Task.CompletedTask);

        await stream.WriteAsync(new byte[100], TestContext.Current.CancellationToken);

        Assert.Equal(0, connection.Left);
        Assert.Equal(0, stream.BytesSent);
        Assert.NotNull(stream.Held);
    }

    /// <summary>A connection whose second write delivers its bytes and then reports the client gone, as Kestrel may.</summary>
    private sealed class LeavesThenCancels : Stream
    {
        private int _writes;

        public long Left { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Left += buffer.Length;
            return ++_writes < 2 ? ValueTask.CompletedTask : ValueTask.FromException(new OperationCanceledException("the client went away"));
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
