using System.Collections.Concurrent;
using System.IO.Pipelines;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// Verification that runs while an upload arrives: each PATCH body is written to the staging file
/// and, in order, fed to an <see cref="IngestVerifier.ProveAsync"/> pass on another thread, so the
/// proof is ready when the last byte lands instead of starting then. Only an unbroken run of
/// PATCHes feeds a session; anything else (a dropped connection, a refused checksum, a restart, an
/// offset that does not match, too many uploads at once) drops it, and completion then verifies
/// the staged file as a whole. So a session only ever saves time; it never decides anything alone.
/// </summary>
public sealed class IngestSessions(IngestVerifier verifier, IOptions<UploadOptions> options, TimeProvider time) : IDisposable
{
    // Note: at most this much ciphertext waits between a PATCH and the verifier; the PATCH waits when it is full.
    private const long PauseBytes = 8L << 20;
    private const long ResumeBytes = 4L << 20;

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

        var session = new Session(verifier, projectId, time);
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
        foreach (var (id, session) in _sessions)
        {
            if (session.LastFed < cutoff)
            {
                Drop(id);
            }
        }
    }

    /// <summary>One upload's running verification.</summary>
    public sealed class Session
    {
        private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: PauseBytes, resumeWriterThreshold: ResumeBytes, useSynchronizationContext: false));
        private readonly TimeProvider _time;
        private readonly Task<IngestProof?> _proof;
        private int _closed;

        internal Session(IngestVerifier verifier, string projectId, TimeProvider time)
        {
            _time = time;
            LastFed = time.GetUtcNow();
            _proof = Task.Run(() => ProveAsync(verifier, projectId));
        }

        /// <summary>Bytes fed so far.</summary>
        public long Fed { get; private set; }

        /// <summary>When bytes last arrived.</summary>
        public DateTimeOffset LastFed { get; private set; }

        /// <summary>True once the session was abandoned or finished.</summary>
        public bool Closed => Volatile.Read(ref _closed) != 0;

        /// <summary>Passes the next bytes of the upload to the verifier (waiting while it is behind).</summary>
        public async ValueTask FeedAsync(ReadOnlyMemory<byte> bytes)
        {
            if (!Closed)
            {
                // Note: once the verifier has its answer (a failure can show in the first bytes) it reads no more; the
                // bytes are then only counted, so the offsets still line up.
                await _pipe.Writer.WriteAsync(bytes);
            }

            Fed += bytes.Length;
            LastFed = _time.GetUtcNow();
        }

        internal async Task<IngestProof?> FinishAsync()
        {
            await _pipe.Writer.CompleteAsync();
            var proof = await _proof;
            Close();
            return proof;
        }

        internal void Abandon()
        {
            if (Close())
            {
                // Note: both calls are safe from any thread: the verifier's next read ends (and it gives up),
                // and a PATCH waiting for room returns at once.
                _pipe.Reader.CancelPendingRead();
                _pipe.Writer.CancelPendingFlush();
            }
        }

        private bool Close() => Interlocked.Exchange(ref _closed, 1) == 0;

        private async Task<IngestProof?> ProveAsync(IngestVerifier verifier, string projectId)
        {
            try
            {
                await using var stream = _pipe.Reader.AsStream(leaveOpen: true);
                return await verifier.ProveAsync(projectId, stream, CancellationToken.None);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Abandoned (or the key store failed): completion verifies the staged file instead.
                return null;
            }
            finally
            {
                await _pipe.Reader.CompleteAsync();
            }
        }
    }
}
