namespace OpenSpe.Core.Audit;

/// <summary>
/// Checks an audit log end to end: every checkpoint's signature, every record's hash against
/// its content and its predecessor, gaps and reordering, that no signed checkpoint covers
/// records that are gone, that the log is not empty, and that every checkpoint a witness kept
/// outside the database is still stored and still matches the log. Reports the first sequence
/// number that fails.
/// </summary>
/// <remarks>
/// A record is valid when SHA-256(stored hash of its predecessor || its canonical JSON) equals its
/// own stored hash. Because the check needs only the predecessor's stored hash, disjoint sequence
/// ranges can be verified independently and at once (<see cref="VerifyInParallel"/>): every link,
/// including those at range borders, is still checked exactly once.
/// </remarks>
public sealed class AuditChainVerifier
{
    /// <summary>The default smallest range: below it, another thread costs more than it saves.</summary>
    public const long DefaultMinimumRecordsPerRange = 50_000;

    /// <summary>The least time records are kept (EHDSR-8, OPR-17): no purge may remove a record younger than this.</summary>
    public const int MinimumRetentionDays = 365;

    /// <summary>What a checkpoint's signing time may lag behind the newest record it covers (a checkpoint is signed after its records).</summary>
    private const long CheckpointLagMicros = 86_400_000_000L;

    private const long RetentionMicros = MinimumRetentionDays * 86_400_000_000L;

    private readonly AuditSigningKey _publicKey;
    private readonly TimeProvider _time;

    /// <summary>Creates a verifier that trusts checkpoints signed by <paramref name="publicKey"/>, on <paramref name="time"/> (the system clock when null).</summary>
    public AuditChainVerifier(AuditSigningKey publicKey, TimeProvider? time = null)
    {
        _publicKey = publicKey ?? throw new ArgumentNullException(nameof(publicKey));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Verifies rows (ordered by sequence, as stored) against the checkpoints.</summary>
    /// <param name="rows">Rows ordered by sequence; the enumerator may reuse one instance.</param>
    /// <param name="checkpoints">All stored checkpoints.</param>
    /// <param name="witnessed">Checkpoints kept by witnesses outside the database, which the log must contain exactly.</param>
    public AuditVerificationResult Verify(IEnumerable<AuditRow> rows, IReadOnlyList<AuditCheckpoint> checkpoints, IReadOnlyList<AuditWitnessedCheckpoint>? witnessed = null)
    {
        using var cursor = new AuditRowEnumerableCursor(rows);
        return Verify(cursor, checkpoints, witnessed);
    }

    /// <summary>Verifies every row of a cursor (ordered by sequence, as stored) against the checkpoints.</summary>
    public AuditVerificationResult Verify(IAuditRowCursor rows, IReadOnlyList<AuditCheckpoint> checkpoints, IReadOnlyList<AuditWitnessedCheckpoint>? witnessed = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var trust = Trust(checkpoints, witnessed);
        var range = VerifyRange(rows, trust.AnchorSequence + 1, trust.AnchorHash, through: null, trust, new FailureTracker());
        return Result(trust, [range]);
    }

    /// <summary>
    /// Verifies the log up to <paramref name="lastSequence"/> in up to <paramref name="ranges"/>
    /// sequence ranges at once, each read through its own cursor from <paramref name="source"/>.
    /// Read the checkpoints before <paramref name="lastSequence"/> so that none is newer than it.
    /// </summary>
    /// <param name="source">Where the rows are read from.</param>
    /// <param name="checkpoints">All stored checkpoints.</param>
    /// <param name="lastSequence">The last record to check.</param>
    /// <param name="ranges">The most ranges to check at once (the number of cores).</param>
    /// <param name="minimumRecordsPerRange">No range is smaller than this.</param>
    /// <param name="witnessed">Checkpoints kept by witnesses outside the database, which the log must contain exactly.</param>
    public AuditVerificationResult VerifyInParallel(IAuditRowSource source, IReadOnlyList<AuditCheckpoint> checkpoints, long lastSequence, int ranges, long minimumRecordsPerRange = DefaultMinimumRecordsPerRange,
        IReadOnlyList<AuditWitnessedCheckpoint>? witnessed = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranges, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumRecordsPerRange, 1);
        var trust = Trust(checkpoints, witnessed);
        var span = lastSequence - trust.AnchorSequence;
        var count = (int)Math.Clamp(span / minimumRecordsPerRange, 1, ranges);
        var borders = new long[count + 1];
        for (var i = 0; i <= count; i++)
        {
            borders[i] = trust.AnchorSequence + (span * i / count);
        }

        borders[count] = lastSequence;
        var results = new RangeResult[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = count }, i =>
        {
            // Note: the first range reads from the very start, so rows left before a purge anchor are still reported.
            var after = i == 0 ? long.MinValue : borders[i];
            var previous = i == 0 ? trust.AnchorHash : source.StoredHash(borders[i]);
            var failure = new FailureTracker();
            if (previous is null || previous.Length != AuditCanonicalForm.HashSize)
            {
                // Nothing in this range can be linked; the range before it reports the same record
                // (or an earlier fault). Its rows are still read so the counts are those of one pass.
                failure.Report(borders[i], AuditVerificationProblems.RecordMissing, $"Record {borders[i]} is missing.");
                previous = AuditCanonicalForm.GenesisHash.ToArray();
            }

            using var cursor = source.Open(after, borders[i + 1]);
            results[i] = VerifyRange(cursor, borders[i] + 1, previous, borders[i + 1], trust, failure);
        });
        return Result(trust, results);
    }

    private TrustedCheckpoints Trust(IReadOnlyList<AuditCheckpoint> checkpoints, IReadOnlyList<AuditWitnessedCheckpoint>? witnessed)
    {
        ArgumentNullException.ThrowIfNull(checkpoints);
        var failure = new FailureTracker();
        long? latestCheckpoint = null;
        var anchorSequence = 0L;
        var anchorMicros = 0L;
        var anchorHash = AuditCanonicalForm.GenesisHash.ToArray();
        var bySequence = new Dictionary<long, List<AuditCheckpoint>>();

        foreach (var checkpoint in checkpoints)
        {
            if (!_publicKey.Verify(checkpoint) || !AuditCheckpointKinds.IsKnown(checkpoint.Kind))
            {
                failure.Report(checkpoint.Sequence + (checkpoint.Sequence == 0 ? 1 : 0), AuditVerificationProblems.CheckpointForged,
                    $"The checkpoint at sequence {checkpoint.Sequence} signed at {AuditTime.Format(checkpoint.TimestampMicros)} has an invalid signature.");
                continue;
            }

            latestCheckpoint = latestCheckpoint is { } l ? Math.Max(l, checkpoint.TimestampMicros) : checkpoint.TimestampMicros;
            if (checkpoint.Kind == AuditCheckpointKinds.Purge && checkpoint.Sequence > anchorSequence)
            {
                // Note: a purge checkpoint is the trusted starting point because the records before it are gone by rule.
                anchorSequence = checkpoint.Sequence;
                anchorMicros = checkpoint.TimestampMicros;
                anchorHash = checkpoint.Hash;
            }

            if (!bySequence.TryGetValue(checkpoint.Sequence, out var list))
            {
                bySequence[checkpoint.Sequence] = list = [];
            }

            list.Add(checkpoint);
        }

        // Note: the purge anchor is signed with the same key as everything else, so whoever holds the key could sign one over recent
        // records and delete them. A witness outside the database bounds that: a record a witness saw may go only once it is older
        // than the minimum retention, counted from the anchor's time but never from later than now (an anchor dated in the future
        // buys nothing).
        var purgeBound = Math.Min(anchorMicros, AuditTime.ToMicros(_time.GetUtcNow())) - RetentionMicros + CheckpointLagMicros;
        var witnessedBySequence = new Dictionary<long, List<AuditWitnessedCheckpoint>>();
        var notStored = new List<AuditWitnessedCheckpoint>();
        foreach (var kept in witnessed ?? [])
        {
            var checkpoint = kept.Checkpoint;
            if (!_publicKey.Verify(checkpoint) || !AuditCheckpointKinds.IsKnown(checkpoint.Kind))
            {
                failure.Report(Math.Max(checkpoint.Sequence, 1), AuditVerificationProblems.WitnessForged,
                    $"The checkpoint that {kept.Witness} holds at {kept.Describe()} is not signed by the trusted key {_publicKey.KeyId}.");
                continue;
            }

            // Note: a witnessed checkpoint must still be stored because checkpoints are never deleted
            // legitimately (purge removes records, not checkpoints); deleting them is how a rewrite hides.
            var stored = bySequence.TryGetValue(checkpoint.Sequence, out var atThis) && atThis.Any(c => c.Hash.AsSpan().SequenceEqual(checkpoint.Hash));
            if (!stored)
            {
                // Reported after the records are read, so that a record that disagrees is named first.
                notStored.Add(kept);
            }

            if (checkpoint.Sequence < anchorSequence || (checkpoint.Sequence == anchorSequence && checkpoint.Hash.AsSpan().SequenceEqual(anchorHash)))
            {
                // Records before the purge anchor are gone by rule; the stored check above still applies. A purge checkpoint is
                // signed when it is made, long after the old records it covers, so its own time says nothing about theirs.
                if (checkpoint.Kind != AuditCheckpointKinds.Purge && checkpoint.TimestampMicros > purgeBound)
                {
                    failure.Report(Math.Max(checkpoint.Sequence, 1), AuditVerificationProblems.WitnessPurgedEarly,
                        $"{kept.Witness} holds the checkpoint at {kept.Describe()} but the log was purged past it (anchor at {anchorSequence}) before it was "
                        + $"{MinimumRetentionDays} days old: records were removed before their time.");
                }

                continue;
            }

            if (!witnessedBySequence.TryGetValue(checkpoint.Sequence, out var list))
            {
                witnessedBySequence[checkpoint.Sequence] = list = [];
            }

            list.Add(kept);
        }

        return new TrustedCheckpoints(checkpoints.Count, failure, latestCheckpoint, anchorSequence, anchorHash, bySequence, witnessedBySequence, notStored);
    }

    private static RangeResult VerifyRange(IAuditRowCursor rows, long expected, byte[] previousHash, long? through, TrustedCheckpoints trust, FailureTracker failure)
    {
        var bySequence = trust.BySequence;
        var previous = previousHash.ToArray();
        var computed = new byte[AuditCanonicalForm.HashSize];
        long count = 0;
        long? first = null;
        long? lastRead = null;
        using var hasher = new AuditChainHasher();

        while (rows.Read(out var row))
        {
            count++;
            first ??= row.Sequence;
            lastRead = row.Sequence;
            if (failure.HasFailure && failure.Sequence <= row.Sequence)
            {
                // Keep counting but there is nothing earlier left to find.
                continue;
            }

            if (row.Sequence < expected)
            {
                failure.Report(row.Sequence, AuditVerificationProblems.RecordOutOfOrder,
                    $"Record {row.Sequence} appears where record {expected} was expected (duplicated, reordered or from before the purge anchor).");
                continue;
            }

            if (row.Sequence > expected)
            {
                failure.Report(expected, AuditVerificationProblems.RecordMissing, $"Record {expected} is missing.");
                continue;
            }

            if (row.Hash.Length != AuditCanonicalForm.HashSize || !AuditOutcomeNames.IsKnown(row.Outcome) || !TryCompute(hasher, row, previous, computed))
            {
                failure.Report(row.Sequence, AuditVerificationProblems.RecordMalformed, $"Record {row.Sequence} is malformed.");
                continue;
            }

            if (!computed.AsSpan().SequenceEqual(row.Hash))
            {
                failure.Report(row.Sequence, AuditVerificationProblems.RecordModified,
                    $"Record {row.Sequence} does not match its hash: it was changed, or a record before it was.");
                continue;
            }

            if (bySequence.TryGetValue(row.Sequence, out var atThis))
            {
                foreach (var checkpoint in atThis)
                {
                    if (!checkpoint.Hash.AsSpan().SequenceEqual(computed))
                    {
                        failure.Report(row.Sequence, AuditVerificationProblems.CheckpointMismatch,
                            $"The signed checkpoint at sequence {row.Sequence} does not match the log: records up to it were rewritten.");
                    }
                }
            }

            if (trust.WitnessedBySequence.TryGetValue(row.Sequence, out var witnessedHere))
            {
                foreach (var kept in witnessedHere)
                {
                    if (!kept.Checkpoint.Hash.AsSpan().SequenceEqual(computed))
                    {
                        failure.Report(row.Sequence, AuditVerificationProblems.WitnessMismatch,
                            $"{kept.Witness} holds the checkpoint at {kept.Describe()} but the log has hash {Convert.ToHexStringLower(computed)} there: records up to it were rewritten.");
                    }
                }
            }

            (previous, computed) = (computed, previous);
            expected++;
        }

        if (through is { } end && expected <= end)
        {
            failure.Report(expected, AuditVerificationProblems.RecordMissing, $"Record {expected} is missing.");
        }

        return new RangeResult(count, first, lastRead, expected, failure);
    }

    private static bool TryCompute(AuditChainHasher hasher, scoped in AuditRowUtf8 row, byte[] previous, byte[] computed)
    {
        try
        {
            hasher.Compute(row, previous, computed);
            return true;
        }
        catch (ArgumentException)
        {
            // Stored text that is not UTF-8 was never written by the writer.
            return false;
        }
    }

    private static AuditVerificationResult Result(TrustedCheckpoints trust, IReadOnlyList<RangeResult> ranges)
    {
        var failure = trust.Failure;
        long count = 0;
        long? first = null;
        long? lastRead = null;
        foreach (var range in ranges)
        {
            count += range.Count;
            first ??= range.First;
            lastRead = range.LastRead ?? lastRead;
            failure.Merge(range.Failure);
        }

        var last = ranges[^1].Expected - 1;
        foreach (var sequence in trust.BySequence.Keys)
        {
            if (sequence > last)
            {
                failure.Report(last + 1, AuditVerificationProblems.Truncated,
                    $"A signed checkpoint covers {sequence} records but the log ends at {last}: records {last + 1}..{sequence} were removed.");
            }
        }

        foreach (var (sequence, kept) in trust.WitnessedBySequence)
        {
            if (sequence > last)
            {
                failure.Report(last + 1, AuditVerificationProblems.WitnessMissing,
                    $"{kept[0].Witness} holds the checkpoint at {kept[0].Describe()} but the log ends at {last}: records {last + 1}..{sequence} were removed.");
            }
        }

        foreach (var kept in trust.WitnessedNotStored)
        {
            failure.Report(Math.Max(kept.Checkpoint.Sequence, 1), AuditVerificationProblems.WitnessMissing,
                $"The checkpoint that {kept.Witness} holds at {kept.Describe()} is missing from the stored checkpoints: checkpoints were deleted.");
        }

        if (count == 0)
        {
            // Note: never VALID when empty, because emptying the tables is the cheapest way to erase a log.
            failure.Report(trust.AnchorSequence + 1, AuditVerificationProblems.LogEmpty,
                "The audit log holds no records; a server records its own start, so an empty log was emptied.");
        }

        return new AuditVerificationResult(
            !failure.HasFailure,
            count,
            trust.CheckpointCount,
            first,
            lastRead,
            failure.HasFailure ? failure.Sequence : null,
            failure.Problem,
            failure.Message,
            trust.LatestCheckpointMicros);
    }

    private sealed record TrustedCheckpoints(
        int CheckpointCount,
        FailureTracker Failure,
        long? LatestCheckpointMicros,
        long AnchorSequence,
        byte[] AnchorHash,
        Dictionary<long, List<AuditCheckpoint>> BySequence,
        Dictionary<long, List<AuditWitnessedCheckpoint>> WitnessedBySequence,
        List<AuditWitnessedCheckpoint> WitnessedNotStored);

    private sealed record RangeResult(long Count, long? First, long? LastRead, long Expected, FailureTracker Failure);

    private sealed class FailureTracker
    {
        public bool HasFailure { get; private set; }

        public long Sequence { get; private set; }

        public string? Problem { get; private set; }

        public string? Message { get; private set; }

        public void Report(long sequence, string problem, string message)
        {
            if (HasFailure && Sequence <= sequence)
            {
                return;
            }

            HasFailure = true;
            Sequence = sequence;
            Problem = problem;
            Message = message;
        }

        public void Merge(FailureTracker other)
        {
            if (other.HasFailure)
            {
                Report(other.Sequence, other.Problem!, other.Message!);
            }
        }
    }
}
