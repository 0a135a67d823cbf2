using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using OpenSpe.IO;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// Verification that runs while an upload arrives: each PATCH body is written to the staging file,
/// hashed, and handed in order (the very blocks it was read into) to an
/// <see cref="IngestVerifier.ProveAsync(string, Stream, CancellationToken)"/> pass on another thread, so the
/// proof is ready when the last byte lands instead of starting then. Only an unbroken run of
/// PATCHes feeds a session; anything else (a dropped connection, a refused checksum, a restart, an
/// offset that does not match, too many uploads at once) drops it, and completion then verifies
/// the staged file as a whole. So a session only ever saves time; it never decides anything alone.
/// </summary>
internal sealed class IngestSessions(IngestVerifier verifier, IOptions<UploadOptions> options, TimeProvider time) : IDisposable
{
    // Note: at most this many blocks of ciphertext wait between a PATCH and the verifier; the PATCH waits when they are full.
    private const int QueuedBlocks = 4;

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private long _proved;

    /// <summary>Completions answered by a proof made while the bytes arrived (the rest verified the staged file).</summary>
    public long ProvedWhileArriving => Interlocked.Read(ref _proved);

    /// <summary>
    /// The session to feed with the bytes of upload <paramref name="uploadId"/> at <paramref name="offset"/>: the running
    /// one when it has been fed exactly that far, a new one when the upload is at offset 0 and there is
    /// room, otherwise null (and any session that fell out of step is dropped).
    /// </summary>
    public Session? Join(string projectId, string uploadId, long offset)
    {
        if (_sessions.TryGetValue(uploadId, out var running))
        {
            if (running.Fed == offset && !running.Closed)
            {
                return running;
            }

            Drop(uploadId);
        }

        if (offset != 0)
        {
            return null;
        }

        DropIdle();
        if (_sessions.Count >= options.Value.MaxStreamingVerifications)
        {
            return null;
        }

        var session = new Session(verifier, projectId, AlignedBlockPool.Shared, time);
        if (_sessions.TryAdd(uploadId, session))
        {
            return session;
        }

        session.Abandon();
        return null;
    }

    /// <summary>Removes the session of an upload (nothing happens when there is none).</summary>
    public void Drop(string uploadId)
    {
        if (_sessions.TryRemove(uploadId, out var session))
        {
            session.Abandon();
        }
    }

    /// <summary>
    /// Ends the session of a fully received upload of <paramref name="length"/> bytes and returns
    /// its proof, or null when there is no session that saw all of those bytes.
    /// </summary>
    public async Task<IngestProof?> FinishAsync(string uploadId, long length)
    {
        if (!_sessions.TryRemove(uploadId, out var session))
        {
            return null;
        }

        if (session.Fed != length || session.Closed)
        {
            session.Abandon();
            return null;
        }

        var proof = await session.FinishAsync();
        if (proof is not null)
        {
            Interlocked.Increment(ref _proved);
        }

        return proof;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var id in _sessions.Keys)
        {
            Drop(id);
        }
    }

    private void DropIdle()
    {
        var cutoff = time.GetUtcNow() - options.Value.StreamingVerificationIdleTimeout;
        foreach (var entry in _sessions)
        {
            // Note: only this session is removed, not one a concurrent Join may have put under the same id.
            if (entry.Value.LastFed < cutoff && _sessions.TryRemove(entry))
            {
                entry.Value.Abandon();
            }
        }
    }

    /// <summary>One upload's running verification.</summary>
    internal sealed class Session : IDisposable
    {
        private readonly Channel<(Memory<byte> Block, int Length)> _blocks = Channel.CreateBounded<(Memory<byte>, int)>(
            new BoundedChannelOptions(QueuedBlocks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

        // Note: the ciphertext is hashed here, on the PATCH's thread, so the verifier's thread only decrypts and hashes
        // the plaintext; the two SHA-256 passes run on two cores.
        private readonly IncrementalHash _cipherHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly AlignedBlockPool _pool;
        private readonly TimeProvider _time;
        private readonly Task<IngestProof?> _proof;
        private long _lastFedTicks;
        private int _closed;

        internal Session(IngestVerifier verifier, string projectId, AlignedBlockPool pool, TimeProvider time)
        {
            _pool = pool;
            _time = time;
            _lastFedTicks = time.GetUtcNow().UtcTicks;
            _proof = Task.Run(() => ProveAsync(verifier, projectId));
        }

        /// <summary>Bytes fed so far.</summary>
        public long Fed { get; private set; }

        /// <summary>When bytes last arrived (read by other uploads' requests, hence kept as atomic ticks).</summary>
        public DateTimeOffset LastFed => new(Interlocked.Read(ref _lastFedTicks), TimeSpan.Zero);

        /// <summary>True once the session was abandoned or finished.</summary>
        public bool Closed => Volatile.Read(ref _closed) != 0;

        /// <summary>
        /// Passes the next <paramref name="length"/> bytes of the upload, at the start of <paramref name="block"/> (a block of
        /// the pool, which the session now owns), to the verifier, waiting while it is more than a few blocks behind. The
        /// bytes are hashed while <paramref name="written"/> (the block's write to the staging file) runs; the block goes on
        /// only after that write, since the verifier returns it to the pool and the disk must not read a reused block.
        /// </summary>
        public async ValueTask FeedAsync(Memory<byte> block, int length, Task written)
        {
            ArgumentNullException.ThrowIfNull(written);
            Fed += length;
            Interlocked.Exchange(ref _lastFedTicks, _time.GetUtcNow().UtcTicks);

            // Note: once the verifier has its answer (a failure can show in the first bytes) it reads no more; the
            // bytes are then only counted, so the offsets still line up.
            var forward = !Closed && !_blocks.Reader.Completion.IsCompleted;
            if (forward)
            {
                lock (_cipherHash)
                {
                    forward = !Closed;
                    if (forward)
                    {
                        _cipherHash.AppendData(block.Span[..length]);
                    }
                }
            }

            await written;
            if (!forward)
            {
                _pool.Return(block);
                return;
            }

            try
            {
                await _blocks.Writer.WriteAsync((block, length));
            }
            catch (ChannelClosedException)
            {
                _pool.Return(block);
            }
        }

        internal async Task<IngestProof?> FinishAsync()
        {
            _blocks.Writer.TryComplete();
            var proof = await _proof;
            string hash;
            lock (_cipherHash)
            {
                if (Closed)
                {
                    return null;
                }

                hash = Convert.ToHexStringLower(_cipherHash.GetHashAndReset());
                Close();
            }

            return proof is { Failure: IngestFailure.None } ? proof with { Sha256 = hash } : proof;
        }

        internal void Abandon()
        {
            lock (_cipherHash)
            {
                if (!Close())
                {
                    return;
                }
            }

            // Note: safe from any thread: the verifier's next read ends (and it gives up), and a PATCH waiting for room returns at once.
            _blocks.Writer.TryComplete();
        }

        /// <summary>Abandons the session if it is still running.</summary>
        public void Dispose() => Abandon();

        private bool Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return false;
            }

            _cipherHash.Dispose();
            return true;
        }

        private async Task<IngestProof?> ProveAsync(IngestVerifier verifier, string projectId)
        {
            try
            {
                await using var stream = new BlockReadStream(_blocks.Reader, _pool, () => Closed);
                return await verifier.ProveAsync(projectId, stream, hashCiphertext: false, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Abandoned, or anything else went wrong (the key store, say): a session never decides alone, so completion
                // verifies the staged file instead, and that pass reports whatever the failure was.
                return null;
            }
            finally
            {
                // Note: nothing reads any more; a PATCH waiting for room, and any later ones, only count their bytes.
                _blocks.Writer.TryComplete();
                while (_blocks.Reader.TryRead(out var queued))
                {
                    _pool.Return(queued.Block);
                }
            }
        }
    }

    /// <summary>The fed blocks as one forward-only stream; each block goes back to the pool once read.</summary>
    private sealed class BlockReadStream(ChannelReader<(Memory<byte> Block, int Length)> blocks, AlignedBlockPool pool, Func<bool> abandoned) : Stream
    {
        private Memory<byte> _block;
        private Memory<byte> _rest;
        private bool _ended;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_rest.IsEmpty)
            {
                ReleaseBlock();
                if (abandoned())
                {
                    throw new OperationCanceledException("The upload's verification was abandoned.");
                }

                if (_ended || !await blocks.WaitToReadAsync(cancellationToken))
                {
                    _ended = true;
                    return 0;
                }

                if (blocks.TryRead(out var next))
                {
                    _block = next.Block;
                    _rest = next.Block[..next.Length];
                }
            }

            var count = Math.Min(buffer.Length, _rest.Length);
            _rest[..count].CopyTo(buffer);
            _rest = _rest[count..];
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            ReleaseBlock();
            base.Dispose(disposing);
        }

        private void ReleaseBlock()
        {
            if (!_block.IsEmpty)
            {
                pool.Return(_block);
                _block = default;
            }
        }
    }
}
