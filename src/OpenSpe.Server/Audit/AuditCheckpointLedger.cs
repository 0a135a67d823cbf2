using System.Data.Common;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Audit;

/// <summary>
/// The server's memory of what it signed, kept outside the database: the last checkpoint it signed
/// (<see cref="StateFileName"/> next to the signing key, written atomically and flushed) and the
/// witness files it pushes to. Before the writer signs anything over a log it read from the
/// database, <see cref="CheckAsync"/> proves that log still contains every one of those
/// checkpoints exactly; otherwise the log was truncated, emptied or rewritten and nothing is signed.
/// </summary>
internal sealed partial class AuditCheckpointLedger
{
    /// <summary>File in the data directory holding the last signed checkpoint (one JSON line).</summary>
    public const string StateFileName = "audit-last-checkpoint.json";

    private readonly DataDirectory? _directory;
    private readonly AuditSigningKey _key;
    private readonly IReadOnlyList<string> _witnessFiles;
    private readonly AuditWitnessPublisher? _publisher;
    private readonly ILogger _logger;
    private AuditCheckpointDocument? _lastSigned;

    /// <summary>Creates the ledger; <paramref name="directory"/> null keeps no state (benchmarks only).</summary>
    public AuditCheckpointLedger(DataDirectory? directory, AuditSigningKey key, IReadOnlyList<string> witnessFiles, AuditWitnessPublisher? publisher, ILogger logger)
    {
        _directory = directory;
        _key = key ?? throw new ArgumentNullException(nameof(key));
        _witnessFiles = witnessFiles ?? throw new ArgumentNullException(nameof(witnessFiles));
        _publisher = publisher;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (directory is not null && directory.File(StateFileName) is var path && File.Exists(path))
        {
            try
            {
                _lastSigned = AuditCheckpointDocument.Parse(File.ReadAllText(path).Trim());
            }
            catch (FormatException ex)
            {
                throw new AuditLogRegressionException($"{path} is not a checkpoint ({ex.Message}); refusing to sign until it is restored", ex);
            }
        }
    }

    /// <summary>Where the last signed checkpoint is recorded, or null when none is kept.</summary>
    public string? StateFile => _directory?.File(StateFileName);

    /// <summary>The newest checkpoint this server signed, as recorded (null before the first one).</summary>
    public AuditCheckpointDocument? LastSigned => Volatile.Read(ref _lastSigned);

    /// <summary>
    /// Proves that the log whose head is <paramref name="head"/> contains the last signed
    /// checkpoint and the newest checkpoint of every witness file: same sequence, same hash, and the
    /// checkpoint still stored.
    /// </summary>
    /// <exception cref="AuditLogRegressionException">It does not; the message names the checkpoint.</exception>
    public async Task CheckAsync(DbConnection connection, AuditHead head, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(head);
        var expected = new List<(string Source, AuditCheckpointDocument Checkpoint)>();
        if (LastSigned is { } last)
        {
            expected.Add(($"the last checkpoint this server signed ({StateFile})", last));
        }

        foreach (var file in _witnessFiles)
        {
            AuditCheckpointDocument? witnessed;
            try
            {
                witnessed = AuditWitnessFile.Last(file);
            }
            catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
            {
                throw new AuditLogRegressionException($"witness file {file} cannot be read: {ex.Message}", ex);
            }

            if (witnessed is not null)
            {
                expected.Add(($"witness file {file}", witnessed));
            }
        }

        foreach (var (source, document) in expected)
        {
            await CheckOneAsync(connection, head, source, document, cancellationToken);
        }

        if (LastSigned is null && await AuditStore.ReadLatestCheckpointAsync(connection, cancellationToken) is { } stored && _key.Verify(stored))
        {
            // Note: no record yet (first start of this version); the newest stored checkpoint is served until one is signed.
            Volatile.Write(ref _lastSigned, AuditCheckpointDocument.From(stored, _key));
            LogNoState(_logger, stored.Sequence);
        }
    }

    /// <summary>Records a checkpoint that was just committed and hands it to the witnesses.</summary>
    public void Record(AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var document = AuditCheckpointDocument.From(checkpoint, _key);
        if (LastSigned is { } last && (last.Sequence > document.Sequence || (last.Sequence == document.Sequence && last.Timestamp >= document.Timestamp)))
        {
            // A purge anchor or a replay of an older head: the record keeps the newest.
            return;
        }

        Volatile.Write(ref _lastSigned, document);
        try
        {
            _directory?.WriteSecret(StateFileName, document.ToJsonLine() + "\n");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogStateWriteFailed(_logger, ex.GetType().Name);
        }

        _publisher?.Publish(document);
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until the witnesses were told of the last checkpoint.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        if (_publisher is not null)
        {
            await _publisher.DrainAsync().WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task CheckOneAsync(DbConnection connection, AuditHead head, string source, AuditCheckpointDocument document, CancellationToken cancellationToken)
    {
        AuditCheckpoint checkpoint;
        try
        {
            checkpoint = document.ToCheckpoint();
        }
        catch (FormatException ex)
        {
            throw new AuditLogRegressionException($"{source} is not a checkpoint: {ex.Message}", ex);
        }

        var described = $"sequence {checkpoint.Sequence} (hash {document.Hash})";
        if (!_key.Verify(checkpoint))
        {
            throw new AuditLogRegressionException($"{source} holds a checkpoint at {described} that is not signed by this server's key {_key.KeyId}");
        }

        if (head.Sequence < checkpoint.Sequence)
        {
            throw new AuditLogRegressionException(
                $"the audit log ends at sequence {head.Sequence}, but {source} is at {described}: records were removed (truncated or emptied)");
        }

        var stored = await AuditStore.ReadCheckpointsAtAsync(connection, checkpoint.Sequence, cancellationToken);
        if (!stored.Any(c => c.Hash.AsSpan().SequenceEqual(checkpoint.Hash)))
        {
            throw new AuditLogRegressionException(
                $"{source} is at {described}, but no such checkpoint is stored: checkpoints were deleted or the log was rewritten");
        }

        var record = await AuditStore.ReadRecordHashAsync(connection, checkpoint.Sequence, cancellationToken);
        if (record is not null)
        {
            if (!record.AsSpan().SequenceEqual(checkpoint.Hash))
            {
                throw new AuditLogRegressionException(
                    $"{source} is at {described}, but record {checkpoint.Sequence} has hash {Convert.ToHexStringLower(record)}: the log was rewritten");
            }

            return;
        }

        // The record is gone: only a signed purge anchor at or after it explains that.
        var anchors = await AuditStore.ReadPurgeAnchorsFromAsync(connection, checkpoint.Sequence, cancellationToken);
        if (!anchors.Any(_key.Verify))
        {
            throw new AuditLogRegressionException($"{source} is at {described}, but record {checkpoint.Sequence} is missing and no purge explains it");
        }
    }

    [LoggerMessage(EventId = 12105, Level = LogLevel.Information, Message = "SPE12105 no record of the last signed audit checkpoint yet; starting from the stored checkpoint at sequence {Sequence}")]
    private static partial void LogNoState(ILogger logger, long sequence);

    [LoggerMessage(EventId = 12106, Level = LogLevel.Error, Message = "SPE12106 the last signed audit checkpoint could not be recorded outside the database ({ErrorType}); the next checkpoint tries again")]
    private static partial void LogStateWriteFailed(ILogger logger, string errorType);
}
