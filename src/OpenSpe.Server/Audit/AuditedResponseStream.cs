using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace OpenSpe.Server.Audit;

/// <summary>
/// The response body of a streaming endpoint while its handler runs. Nothing passes until the handler's first write or
/// flush; then, if the status is an error, the answer is held like any other (the middleware records it and sends it);
/// otherwise the opened record (<paramref name="open"/>, given the status) is written first and only then do bytes reach
/// the connection, counted as they go. An upgrade of the connection (<see cref="UpgradeAsync"/>) is opened the same way.
/// </summary>
internal sealed class AuditedResponseStream(Stream inner, HttpResponse response, Func<int, CancellationToken, Task> open) : Stream
{
    private FileBufferingWriteStream? _held;
    private Mode _mode;
    private long _bytes;

    private enum Mode
    {
        Pending,
        Held,
        Streaming,
        Refused,
    }

    /// <summary>True once the opened record is written and bytes may pass.</summary>
    public bool Streaming => _mode == Mode.Streaming;

    /// <summary>True when the opened record could not be written: nothing was sent, and nothing may be.</summary>
    public bool Refused => _mode == Mode.Refused;

    /// <summary>An error answer held until its record is written; null when there is none.</summary>
    public FileBufferingWriteStream? Held => _held;

    /// <summary>Body bytes handed to the connection, counted as each write starts (after an upgrade: bytes handed to the upgraded stream).</summary>
    public long BytesSent => Interlocked.Read(ref _bytes);

    /// <summary>True when the connection was upgraded (a WebSocket): the response has no body of its own.</summary>
    public bool Upgraded { get; private set; }

    /// <summary>
    /// Writes the opened record, then lets <paramref name="upgrade"/> switch protocols, and counts what is written to the
    /// upgraded stream. Throws <see cref="AuditUnavailableException"/>, with nothing sent, when the record cannot be written.
    /// </summary>
    public async Task<Stream> UpgradeAsync(int status, Func<Task<Stream>> upgrade)
    {
        ArgumentNullException.ThrowIfNull(upgrade);
        if (_mode != Mode.Pending)
        {
            throw new InvalidOperationException("The response has started; it can no longer be upgraded.");
        }

        await OpenAsync(status, CancellationToken.None);
        Upgraded = true;
        return new CountingStream(await upgrade(), this);
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var target = await TargetAsync(cancellationToken);
        // Note: counted when handed over, not when the write returns, because a client that reads the bytes and leaves
        // cancels the write after they left; the closed record must never under-report what may have left.
        if (_mode == Mode.Streaming)
        {
            Count(buffer.Length);
        }

        await target.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = await TargetAsync(cancellationToken);
        await target.FlushAsync(cancellationToken);
    }

    // Note: Kestrel refuses synchronous writes too; a blocking write here could not write the opened record first.
    public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous writes are not allowed on a streaming response.");

    public override void Flush()
    {
        // Nothing is buffered here; what a synchronous flush would push out is pushed by the next asynchronous write or the end of the response.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (_held is not null)
        {
            await _held.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _held?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<Stream> TargetAsync(CancellationToken cancellationToken)
    {
        switch (_mode)
        {
            case Mode.Streaming:
                return inner;
            case Mode.Held:
                return _held!;
            case Mode.Refused:
                throw new AuditUnavailableException();
        }

        if (response.StatusCode >= 400)
        {
            _held = new FileBufferingWriteStream();
            _mode = Mode.Held;
            return _held;
        }

        await OpenAsync(response.StatusCode, cancellationToken);
        return inner;
    }

    private async Task OpenAsync(int status, CancellationToken cancellationToken)
    {
        try
        {
            // Note: the opened record is durable before the first byte leaves, so no stream is ever sent unrecorded (SPER-9).
            await open(status, cancellationToken);
        }
        catch (AuditUnavailableException)
        {
            _mode = Mode.Refused;
            throw;
        }

        _mode = Mode.Streaming;
    }

    private void Count(int bytes) => Interlocked.Add(ref _bytes, bytes);

    /// <summary>An upgraded connection's stream, counting the bytes written to it.</summary>
    private sealed class CountingStream(Stream upgraded, AuditedResponseStream owner) : Stream
    {
        public override bool CanRead => upgraded.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => upgraded.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => upgraded.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => upgraded.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            upgraded.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            owner.Count(count);
            upgraded.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            owner.Count(buffer.Length);
            await upgraded.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => upgraded.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => upgraded.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await upgraded.DisposeAsync();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            // Disposing the upgraded stream twice (here after DisposeAsync) is harmless; disposing it never is not.
            if (disposing)
            {
                upgraded.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
