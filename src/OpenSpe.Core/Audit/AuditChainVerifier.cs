namespace OpenSpe.Core.Audit;

/// <summary>
/// Checks an audit log end to end: every checkpoint's signature, every record's hash against
/// its content and its predecessor, gaps and reordering, and that no signed checkpoint covers
/// records that are gone. Reports the first sequence number that fails.
/// </summary>
public sealed class AuditChainVerifier
{
    private readonly AuditSigningKey _publicKey;

    /// <summary>Creates a verifier that trusts checkpoints signed by <paramref name="publicKey"/>.</summary>
    public AuditChainVerifier(AuditSigningKey publicKey)
    {
        _publicKey = publicKey ?? throw new ArgumentNullException(nameof(publicKey));
    }

    /// <summary>Verifies rows (ordered by sequence, as stored) against the checkpoints.</summary>
    /// <param name="rows">Rows ordered by sequence; the enumerator may reuse one instance.</param>
    /// <param name="checkpoints">All stored checkpoints.</param>
    public AuditVerificationResult Verify(IEnumerable<AuditRow> rows, IReadOnlyList<AuditCheckpoint> checkpoints)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(checkpoints);

        var failure = new FailureTracker();
        long? latestCheckpoint = null;
        var anchorSequence = 0L;
        byte[] anchorHash = AuditCanonicalForm.GenesisHash.ToArray();
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
                anchorHash = checkpoint.Hash;
            }

            if (!bySequence.TryGetValue(checkpoint.Sequence, out var list))
            {
                bySequence[checkpoint.Sequence] = list = [];
            }

            list.Add(checkpoint);
        }

        var expected = anchorSequence + 1;
        var previous = anchorHash;
        var computed = new byte[AuditCanonicalForm.HashSize];
        long count = 0;
        long? first = null;
        long? lastRead = null;
        using var hasher = new AuditChainHasher();

        foreach (var row in rows)
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

            if (row.Hash.Length != AuditCanonicalForm.HashSize || !AuditOutcomeNames.TryParse(row.Outcome, out _))
            {
                failure.Report(row.Sequence, AuditVerificationProblems.RecordMalformed, $"Record {row.Sequence} is malformed.");
                continue;
            }

            hasher.Compute(row, previous, computed);
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

            (previous, computed) = (computed, previous);
            expected++;
        }

        var last = expected - 1;
        foreach (var sequence in bySequence.Keys)
        {
            if (sequence > last)
            {
                failure.Report(last + 1, AuditVerificationProblems.Truncated,
                    $"A signed checkpoint covers {sequence} records but the log ends at {last}: records {last + 1}..{sequence} were removed.");
            }
        }

        return new AuditVerificationResult(
            !failure.HasFailure,
            count,
            checkpoints.Count,
            first,
            lastRead,
            failure.HasFailure ? failure.Sequence : null,
            failure.Problem,
            failure.Message,
            latestCheckpoint);
    }

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
    }
}
