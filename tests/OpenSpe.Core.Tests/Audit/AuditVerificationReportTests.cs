using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// What the verifier tells an operator (<c>spe audit verify</c> and the API print the message as it is): the exact
/// text for every kind of damage, naming the sequence numbers an investigator starts from (EHDSR-6, OPR-7).
/// </summary>
public sealed class AuditVerificationReportTests
{
    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Edited_record_is_reported_with_its_sequence()
    {
        using var chain = TestChain.Create(25);
        chain.Row(7).ActorUsername = "someone-else";

        AssertReport(chain.Verify(), AuditVerificationProblems.RecordModified, 7,
            "Record 7 does not match its hash: it was changed, or a record before it was.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Missing_record_is_reported_with_its_sequence()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.RemoveAll(r => r.Sequence == 12);

        AssertReport(chain.Verify(), AuditVerificationProblems.RecordMissing, 12, "Record 12 is missing.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Duplicated_record_is_reported_with_the_sequence_expected_in_its_place()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.Insert(5, chain.Row(5).Clone());

        AssertReport(chain.Verify(), AuditVerificationProblems.RecordOutOfOrder, 5,
            "Record 5 appears where record 6 was expected (duplicated, reordered or from before the purge anchor).");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Malformed_record_is_reported_with_its_sequence()
    {
        using var chain = TestChain.Create(25);
        chain.Row(3).Outcome = "maybe";

        AssertReport(chain.Verify(), AuditVerificationProblems.RecordMalformed, 3, "Record 3 is malformed.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Stored_text_that_is_not_utf8_does_not_verify()
    {
        // Only the database can hold such bytes (the writer never writes them); the verifier reads them as stored. The
        // JSON writer replaces them with U+FFFD, so the canonical form differs from the one that was hashed.
        using var chain = TestChain.Create(25);
        var verifier = new AuditChainVerifier(chain.Key);
        using var rows = new InvalidUtf8Cursor(chain.Rows, badSequence: 9);

        var result = verifier.Verify(rows, chain.Checkpoints);

        AssertReport(result, AuditVerificationProblems.RecordModified, 9,
            "Record 9 does not match its hash: it was changed, or a record before it was.");
        Assert.Equal(25, result.RecordsChecked);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Rewritten_and_rehashed_records_are_reported_at_the_first_checkpoint_after_them()
    {
        using var chain = TestChain.Create(25);
        chain.Row(7).ActorUsername = "someone-else";
        chain.Rehash(7);

        AssertReport(chain.Verify(), AuditVerificationProblems.CheckpointMismatch, 10,
            "The signed checkpoint at sequence 10 does not match the log: records up to it were rewritten.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Forged_checkpoint_is_reported_with_its_sequence_and_signing_time()
    {
        using var chain = TestChain.Create(25);
        var original = chain.Checkpoints[1];
        var signature = original.Signature.ToArray();
        signature[10] ^= 0x40;
        chain.Checkpoints[1] = original with { Signature = signature };

        AssertReport(chain.Verify(), AuditVerificationProblems.CheckpointForged, 20,
            $"The checkpoint at sequence 20 signed at {AuditTime.Format(original.TimestampMicros)} has an invalid signature.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Truncation_is_reported_with_the_range_of_removed_records()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.RemoveAll(r => r.Sequence >= 16);

        AssertReport(chain.Verify(), AuditVerificationProblems.Truncated, 16,
            "A signed checkpoint covers 20 records but the log ends at 15: records 16..20 were removed.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Empty_log_says_it_was_emptied()
    {
        using var chain = new TestChain();

        AssertReport(chain.Verify(), AuditVerificationProblems.LogEmpty, 1,
            "The audit log holds no records; a server records its own start, so an empty log was emptied.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Forged_witness_checkpoint_is_reported_at_its_own_sequence_with_the_witness_and_the_trusted_key()
    {
        using var chain = TestChain.Create(15);
        using var other = AuditSigningKey.Generate();
        var kept = new AuditWitnessedCheckpoint(other.Sign(15, chain.HeadHash, TestChain.BaseMicros, AuditCheckpointKinds.Periodic), "witness w line 1");

        AssertReport(chain.Verify(witnessed: [kept]), AuditVerificationProblems.WitnessForged, 15,
            $"The checkpoint that witness w line 1 holds at {kept.Describe()} is not signed by the trusted key {chain.Key.KeyId}.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Forged_witness_checkpoint_beyond_the_log_is_not_taken_as_evidence_of_removed_records()
    {
        // A forged statement says nothing about the log: it is reported as forged, at its own sequence, and not as
        // records 26..100 having been removed.
        using var chain = TestChain.Create(25);
        using var other = AuditSigningKey.Generate();
        var kept = new AuditWitnessedCheckpoint(other.Sign(100, chain.HeadHash, TestChain.BaseMicros, AuditCheckpointKinds.Periodic), "witness w line 1");

        var result = chain.Verify(witnessed: [kept]);

        Assert.Equal((AuditVerificationProblems.WitnessForged, 100L), (result.Problem, result.FirstBadSequence));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Witnessed_checkpoint_at_the_last_record_is_valid()
    {
        using var chain = TestChain.Create(20);
        var witnessed = chain.Checkpoints.Select(c => new AuditWitnessedCheckpoint(c, "witness w")).ToList();

        var result = chain.Verify(witnessed: witnessed);

        Assert.True(result.Valid, result.Message);
        Assert.Equal(20, result.LastSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Witness_missing_after_truncation_is_reported_with_the_range_of_removed_records()
    {
        using var chain = TestChain.Create(25);
        var kept = new AuditWitnessedCheckpoint(chain.Checkpoints.Single(c => c.Sequence == 20), "witness w line 2");
        chain.Rows.RemoveAll(r => r.Sequence > 15);
        chain.Checkpoints.RemoveAll(c => c.Sequence > 15);

        AssertReport(chain.Verify(witnessed: [kept]), AuditVerificationProblems.WitnessMissing, 16,
            $"witness w line 2 holds the checkpoint at {kept.Describe()} but the log ends at 15: records 16..20 were removed.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Witness_not_stored_is_reported_as_deleted_checkpoints()
    {
        using var chain = TestChain.Create(25);
        var kept = new AuditWitnessedCheckpoint(chain.Checkpoints[0], "witness w line 1");
        chain.Checkpoints.Clear();

        AssertReport(chain.Verify(witnessed: [kept]), AuditVerificationProblems.WitnessMissing, 10,
            $"The checkpoint that witness w line 1 holds at {kept.Describe()} is missing from the stored checkpoints: checkpoints were deleted.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Witness_mismatch_names_the_witness_both_hashes_and_the_sequence()
    {
        using var chain = TestChain.Create(25);
        var kept = new AuditWitnessedCheckpoint(chain.Checkpoints[0], "witness w line 1");
        chain.Row(3).Action = "rewritten";
        chain.Rehash(3);
        chain.Checkpoints.Clear();

        AssertReport(chain.Verify(witnessed: [kept]), AuditVerificationProblems.WitnessMismatch, 10,
            $"witness w line 1 holds the checkpoint at {kept.Describe()} but the log has hash {Convert.ToHexStringLower(chain.Row(10).Hash)} there: records up to it were rewritten.");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void A_record_replayed_after_a_gap_is_named_before_the_gap()
    {
        // Whatever order the rows arrive in, the report names the lowest sequence that fails: record 12 is missing,
        // but a second copy of record 2 arrives after it, so 2 is where the log stops being trustworthy.
        using var chain = TestChain.Create(25);
        var replayed = chain.Row(2).Clone();
        chain.Rows.RemoveAll(r => r.Sequence == 12);
        chain.Rows.Add(replayed);

        var result = chain.Verify();

        Assert.Equal((AuditVerificationProblems.RecordOutOfOrder, 2L), (result.Problem, result.FirstBadSequence));
    }

    private static void AssertReport(AuditVerificationResult result, string problem, long sequence, string message)
    {
        Assert.False(result.Valid);
        Assert.Equal(problem, result.Problem);
        Assert.Equal(sequence, result.FirstBadSequence);
        Assert.Equal(message, result.Message);
    }

    /// <summary>Rows as stored, except that one record's username column holds bytes that are not UTF-8.</summary>
    private sealed class InvalidUtf8Cursor(IEnumerable<AuditRow> rows, long badSequence) : IAuditRowCursor
    {
        private static readonly byte[] NotUtf8 = [0x61, 0xFF, 0xFE, 0x62];
        private readonly AuditRowEnumerableCursor _inner = new(rows);

        public bool Read(out AuditRowUtf8 row)
        {
            if (!_inner.Read(out row))
            {
                return false;
            }

            if (row.Sequence == badSequence)
            {
                row.ActorUsername = new Utf8Column(NotUtf8);
            }

            return true;
        }

        public void Dispose() => _inner.Dispose();
    }
}
