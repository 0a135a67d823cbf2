using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>
/// The single writer of the audit chain. Callers queue entries; one loop takes everything that is
/// waiting (up to <see cref="AuditOptions.MaxBatchSize"/>), chains and hashes it, and commits it
/// in one durable transaction (group commit), so concurrent requests share one fsync. Checkpoints
/// are signed inside the same transactions, every <see cref="AuditOptions.CheckpointEveryRecords"/>
/// records, and on a timer when the log is quiet. Every checkpoint it signs is recorded outside
/// the database and pushed to the witnesses (<see cref="AuditCheckpointLedger"/>); over a log read
/// from the database that no longer contains the last of them it signs nothing.
/// </summary>
internal sealed partial class AuditWriter : IAuditLog, IAsyncDisposable
{
    // How often one batch may find that another instance appended first before that counts as a failure.
    private const int MaxTimesOvertaken = 16;

    private readonly IAuditObserver[] _observers;
    private readonly AuditStore _store;
    private readonly AuditSigningKey _key;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditWriter> _logger;
    private readonly Channel<Pending> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly AuditCheckpointLedger? _ledger;
    private string? _refusal;
    private Task? _loop;
    private ITimer? _timer;
    private DbConnection? _connection;
    private AuditHead _head = AuditHead.Empty;
    private volatile bool _healthy = true;
    private long _commits;
    private int _disposed;

    /// <summary>Creates the writer; call <see cref="StartAsync"/> before appending.</summary>
    /// <param name="store">The database.</param>
    /// <param name="key">The checkpoint-signing key.</param>
    /// <param name="options">Settings.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Where failures are logged.</param>
    /// <param name="ledger">The record of signed checkpoints outside the database; null only in benchmarks.</param>
    /// <param name="observers">Told of each committed record and each failed append (metrics, alert rules); none in benchmarks.</param>
    public AuditWriter(AuditStore store, AuditSigningKey key, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditWriter> logger, AuditCheckpointLedger? ledger = null,
        IEnumerable<IAuditObserver>? observers = null)
    {
        _ledger = ledger;
        _observers = observers?.ToArray() ?? [];
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _key = key;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.MaxPending)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <inheritdoc />
    public bool IsHealthy => _healthy;

    /// <summary>Transactions committed so far; fewer than appends when group commit shares flushes.</summary>
    public long CommitCount => Interlocked.Read(ref _commits);

    /// <summary>The last sequence written (for diagnostics and tests).</summary>
    public long HeadSequence => Volatile.Read(ref _head).Sequence;

    /// <summary>Reads the chain head and starts the writer loop and the checkpoint timer.</summary>
    /// <exception cref="AuditLogRegressionException">The log no longer contains the last signed or witnessed checkpoint.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _connection = await _store.OpenAsync(cancellationToken);
        _head = await AuditStore.ReadHeadAsync(_connection, cancellationToken);
        if (_ledger is not null)
        {
            try
            {
                // Note: fail closed before the first signature, because a fresh checkpoint over a
                // truncated or rewritten log would make the tampering verify.
                await _ledger.CheckAsync(_connection, _head, cancellationToken);
            }
            catch (AuditLogRegressionException ex)
            {
                LogRegression(_logger, ex.Message);
                await _connection.DisposeAsync();
                _connection = null;
                throw;
            }
        }

        _loop = Task.Run(RunAsync, CancellationToken.None);
        // Note: ticking at half the interval bounds the gap between checkpoints by the interval itself.
        var tick = _options.CheckpointInterval / 2;
        // Note: one-shot and re-armed on each tick, so a clock that jumps (a suspended VM, a test's clock) gives one tick,
        // not one for every period it skipped.
        _timer = _time.CreateTimer(_ => Tick(tick), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(tick, Timeout.InfiniteTimeSpan);
    }

    private void Tick(TimeSpan tick)
    {
        _queue.Writer.TryWrite(Pending.CheckpointTick);
        try
        {
            _timer?.Change(tick, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the tick and the re-arm: the writer is closing.
        }
    }

    /// <inheritdoc />
    public async Task<long> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // Checked here, on the caller's side, so that one malformed entry fails its caller and never the shared batch.
        if (string.IsNullOrEmpty(entry.Action) || entry.Action.Length > 200 || !Enum.IsDefined(entry.Outcome)
            || entry.Details?.Count > AuditCanonicalForm.MaxDetails)
        {
            throw new ArgumentException("The audit entry is malformed (action, outcome or details).", nameof(entry));
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var pending = new Pending(entry);
        long sequence;
        try
        {
            try
            {
                await _queue.Writer.WriteAsync(pending, cancellationToken);
            }
            catch (ChannelClosedException ex)
            {
                throw new AuditUnavailableException("The audit log is shutting down.", ex);
            }

            sequence = await pending.Completion.Task.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            foreach (var observer in _observers)
            {
                try
                {
                    observer.Failed(entry);
                }
                catch (Exception failure)
                {
                    LogObserverFailed(_logger, failure, observer.GetType().Name);
                }
            }

            throw;
        }

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        foreach (var observer in _observers)
        {
            // Note: the record is durable by now, so the action it records happened; an observer that throws (an alert rule,
            // a metric) must not turn that into a 500 the client would retry, doing the action twice. It is logged instead.
            try
            {
                observer.Committed(entry, sequence, elapsed);
            }
            catch (Exception ex)
            {
                LogObserverFailed(_logger, ex, observer.GetType().Name);
            }
        }

        return sequence;
    }

    /// <summary>Signs a checkpoint now (used by purge, shutdown and tests), through the writer loop.</summary>
    public async Task SignCheckpointNowAsync(CancellationToken cancellationToken = default)
    {
        var pending = Pending.ForCheckpoint();
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // The container may dispose this instance twice (as itself and as IAuditLog).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync();
        }

        if (_queue.Writer.TryComplete() && _loop is not null)
        {
            await _loop;
        }

        try
        {
            if (_connection is not null && _healthy && _refusal is null && _head.Sequence > 0)
            {
                await WriteCheckpointOnlyAsync(AuditCheckpointKinds.Shutdown, CancellationToken.None);
                if (_ledger is not null)
                {
                    await _ledger.DrainAsync(TimeSpan.FromSeconds(5));
                }
            }
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            LogWriteFailed(_logger, ex.GetType().Name);
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            await RunLoopAsync();
        }
        catch (Exception ex)
        {
            // Note: if the loop itself ever dies, nothing may wait on it forever: close the queue so appends fail closed.
            _healthy = false;
            LogWriteFailed(_logger, ex.GetType().Name);
            _queue.Writer.TryComplete(ex);
            while (_queue.Reader.TryRead(out var orphan))
            {
                orphan.Completion.TrySetException(new AuditUnavailableException("The audit writer stopped.", ex));
            }
        }
    }

    private async Task RunLoopAsync()
    {
        var batch = new List<Pending>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            var checkpointRequested = false;
            var tick = false;
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var item))
            {
                if (item.IsTick)
                {
                    tick = true;
                }
                else if (item.Entry is null)
                {
                    checkpointRequested = true;
                    batch.Add(item);
                }
                else
                {
                    batch.Add(item);
                }
            }

            var checkpoint = checkpointRequested || (tick && CheckpointDue());
            if (batch.Count > 0 || checkpoint)
            {
                await WriteBatchAsync(batch, checkpoint);
            }
        }
    }

    private bool CheckpointDue()
    {
        var age = AuditTime.ToMicros(_time.GetUtcNow()) - _head.CheckpointMicros;
        return age >= (long)(_options.CheckpointInterval.TotalMilliseconds * 500);
    }

    private async Task WriteBatchAsync(List<Pending> batch, bool forceCheckpoint)
    {
        Exception? failure = null;
        var overtaken = 0;
        for (var attempt = 0; attempt < 2 && _refusal is null; attempt++)
        {
            try
            {
                var (rows, checkpoints, newHead) = Build(batch, forceCheckpoint);
                _connection ??= await _store.OpenAsync(_stopping.Token);
                await AuditStore.AppendAsync(_connection, rows, checkpoints, _stopping.Token);
                Volatile.Write(ref _head, newHead);
                Interlocked.Increment(ref _commits);
                _healthy = true;
                if (checkpoints.Count > 0)
                {
                    // Recorded before any caller learns of the commit, so a signed head is never only in the database.
                    _ledger?.Record(checkpoints[^1]);
                }

                var rowIndex = 0;
                foreach (var pending in batch)
                {
                    // Rows are built only for entries; a checkpoint request answers with the head it signed.
                    pending.Completion.TrySetResult(pending.Entry is null ? newHead.Sequence : rows[rowIndex++].Sequence);
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                failure = ex;
                if (AuditStore.IsSequenceTaken(ex) && ++overtaken <= MaxTimesOvertaken)
                {
                    // Note: another instance sharing the database appended first; nothing of this batch was kept, so it is
                    // chained again after the new head. Not a failure, and not counted as one (bounded, so it cannot spin).
                    attempt--;
                }
                else
                {
                    LogWriteFailed(_logger, ex.GetType().Name);
                }

                await ResetConnectionAsync();
            }
        }

        // Note: fail closed. No caller learns its entry was written, so none of them may proceed.
        _healthy = false;
        var reason = failure ?? new AuditLogRegressionException(_refusal!);
        foreach (var pending in batch)
        {
            pending.Completion.TrySetException(new AuditUnavailableException("The audit log could not be written.", reason));
        }
    }

    private (List<AuditRow> Rows, List<AuditCheckpoint> Checkpoints, AuditHead Head) Build(List<Pending> batch, bool forceCheckpoint)
    {
        var head = _head;
        var rows = new List<AuditRow>(batch.Count);
        var checkpoints = new List<AuditCheckpoint>(1);
        var previous = head.Hash;
        var sequence = head.Sequence;
        var checkpointSequence = head.CheckpointSequence;
        var checkpointMicros = head.CheckpointMicros;
        // Note: time never goes backwards inside the chain, so purge-by-age always removes a prefix.
        var now = Math.Max(AuditTime.ToMicros(_time.GetUtcNow()), head.TimestampMicros);
        using var hasher = new AuditChainHasher();
        foreach (var pending in batch)
        {
            if (pending.Entry is null)
            {
                continue;
            }

            sequence++;
            var row = AuditRow.FromEntry(sequence, now, pending.Entry);
            var hash = new byte[AuditCanonicalForm.HashSize];
            hasher.Compute(row, previous, hash);
            row.Hash = hash;
            rows.Add(row);
            previous = hash;
            if (sequence - checkpointSequence >= _options.CheckpointEveryRecords)
            {
                checkpoints.Add(_key.Sign(sequence, hash, now, AuditCheckpointKinds.Periodic));
                checkpointSequence = sequence;
                checkpointMicros = now;
            }
        }

        var headJustSigned = checkpoints.Count > 0 && checkpointSequence == sequence;
        if (forceCheckpoint && !headJustSigned)
        {
            var kind = sequence == checkpointSequence ? AuditCheckpointKinds.Idle : AuditCheckpointKinds.Periodic;
            checkpoints.Add(_key.Sign(sequence, previous, now, kind));
            checkpointSequence = sequence;
            checkpointMicros = now;
        }

        var newHead = new AuditHead(sequence, previous, rows.Count > 0 ? now : head.TimestampMicros, checkpointSequence, checkpointMicros);
        return (rows, checkpoints, newHead);
    }

    private async Task WriteCheckpointOnlyAsync(string kind, CancellationToken cancellationToken)
    {
        var head = _head;
        var now = Math.Max(AuditTime.ToMicros(_time.GetUtcNow()), head.TimestampMicros);
        var checkpoint = _key.Sign(head.Sequence, head.Hash, now, kind);
        _connection ??= await _store.OpenAsync(cancellationToken);
        await AuditStore.AppendAsync(_connection, [], [checkpoint], cancellationToken);
        _ledger?.Record(checkpoint);
    }

    private async Task ResetConnectionAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        try
        {
            // Another process (e.g. an offline purge) may have written; continue from what is stored.
            _connection = await _store.OpenAsync(_stopping.Token);
            var head = await AuditStore.ReadHeadAsync(_connection, _stopping.Token);
            if (_ledger is not null)
            {
                await _ledger.CheckAsync(_connection, head, _stopping.Token);
            }

            _head = head;
        }
        catch (AuditLogRegressionException ex)
        {
            // Note: the log changed under the running server; it signs nothing more and every append fails closed.
            _refusal = ex.Message;
            LogRegression(_logger, ex.Message);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException)
        {
            LogWriteFailed(_logger, ex.GetType().Name);
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
    }

    [LoggerMessage(EventId = 12101, Level = LogLevel.Error, Message = "SPE12101 audit write failed ({ErrorType}); requests fail closed until it recovers")]
    private static partial void LogWriteFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = 12109, Level = LogLevel.Error, Message = "SPE12109 the audit observer {Observer} failed on a record; the record stands and its request goes on")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception, string observer);

    [LoggerMessage(EventId = 12103, Level = LogLevel.Critical, Message = "SPE12103 refusing to sign over the audit log: {Reason}")]
    private static partial void LogRegression(ILogger logger, string reason);

    private sealed class Pending
    {
        public static readonly Pending CheckpointTick = new(null, isTick: true);

        public Pending(AuditEntry? entry, bool isTick = false)
        {
            Entry = entry;
            IsTick = isTick;
        }

        public AuditEntry? Entry { get; }

        public bool IsTick { get; }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static Pending ForCheckpoint() => new(null);
    }
}
