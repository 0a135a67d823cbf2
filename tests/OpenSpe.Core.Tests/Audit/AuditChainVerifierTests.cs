using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// The verifier over in-memory chains: every kind of tampering is caught and the first
/// sequence at which the log stops being trustworthy is named (EHDSR-6, OPR-7).
/// </summary>
public sealed class AuditChainVerifierTests
{
    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithUntouchedChain_IsValid()
    {
        using var chain = TestChain.Create(25);

        var result = chain.Verify();

        Assert.True(result.Valid, result.Message);
        Assert.Equal(25, result.RecordsChecked);
        Assert.Equal(2, result.CheckpointsChecked);
        Assert.Equal(1, result.FirstSequence);
        Assert.Equal(25, result.LastSequence);
        Assert.Null(result.FirstBadSequence);
        Assert.Null(result.Problem);
        Assert.Null(result.Message);
        Assert.Equal(chain.Checkpoints[^1].TimestampMicros, result.LatestCheckpointMicros);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithPublicKeyOnly_IsValid()
    {
        using var chain = TestChain.Create(25);
        using var publicKey = AuditSigningKey.FromPem(chain.Key.ExportPublicKeyPem());

        var result = chain.Verify(trusted: publicKey);

        Assert.True(result.Valid, result.Message);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithEmptyLog_IsNeverValid()
    {
        using var chain = new TestChain();

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(AuditVerificationProblems.LogEmpty, result.Problem);
        Assert.Equal(1, result.FirstBadSequence);
        Assert.Equal(0, result.RecordsChecked);
        Assert.Equal(0, result.CheckpointsChecked);
        Assert.Null(result.FirstSequence);
        Assert.Null(result.LastSequence);
        Assert.Null(result.LatestCheckpointMicros);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithEmptyLogAndIdleCheckpointAtZero_IsStillNotValid()
    {
        using var chain = new TestChain();
        var idle = chain.Sign(AuditCheckpointKinds.Idle);

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(AuditVerificationProblems.LogEmpty, result.Problem);
        Assert.Equal(1, result.CheckpointsChecked);
        Assert.Equal(idle.TimestampMicros, result.LatestCheckpointMicros);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithCheckpointAtEveryKindOverHead_IsValid()
    {
        using var chain = TestChain.Create(7);
        chain.Sign(AuditCheckpointKinds.Idle);
        chain.Sign(AuditCheckpointKinds.Shutdown);
        chain.Append(3);

        var result = chain.Verify();

        Assert.True(result.Valid, result.Message);
        Assert.Equal(3, result.CheckpointsChecked);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_RowsAsStreamedCopies_AreNotRetained()
    {
        // The store streams one reused AuditRow; the verifier must not keep references to it.
        using var chain = TestChain.Create(35);

        var result = new AuditChainVerifier(chain.Key).Verify(TestChain.Streamed(chain.Rows), chain.Checkpoints);

        Assert.True(result.Valid, result.Message);
        Assert.Equal(1, result.FirstSequence);
        Assert.Equal(35, result.LastSequence);
    }

    /// <summary>Tamperings of a 25-record chain (checkpoints at 10 and 20) and what the verifier must name.</summary>
    private static readonly Dictionary<string, (Action<TestChain> Tamper, long FirstBad, string Problem)> Tamperings = new(StringComparer.Ordinal)
    {
        ["stored hash edited"] = (c => c.Row(13).Hash[0] ^= 1, 13, AuditVerificationProblems.RecordModified),
        ["two records edited: the first is named"] = (c =>
        {
            c.Row(18).Action = "x";
            c.Row(4).Outcome = "denied";
        }, 4, AuditVerificationProblems.RecordModified),
        // An attacker who can write the database can recompute every hash after an edit, but cannot re-sign the
        // checkpoints; the first checkpoint after the edit disagrees.
        ["record edited and chain recomputed"] = (c =>
        {
            c.Row(7).ActorUsername = "someone-else";
            c.Rehash(7);
        }, 10, AuditVerificationProblems.CheckpointMismatch),
        ["record duplicated"] = (c => c.Rows.Insert(5, c.Row(5).Clone()), 5, AuditVerificationProblems.RecordOutOfOrder),
        ["unknown outcome"] = (c => c.Row(3).Outcome = "maybe", 3, AuditVerificationProblems.RecordMalformed),
        ["short hash"] = (c => c.Row(3).Hash = c.Row(3).Hash[..31], 3, AuditVerificationProblems.RecordMalformed),
        ["checkpoint field changed after signing"] = (c => c.Checkpoints[0] = c.Checkpoints[0] with { TimestampMicros = c.Checkpoints[0].TimestampMicros + 1 },
            10, AuditVerificationProblems.CheckpointForged),
    };

    /// <summary>The names of <see cref="Tamperings"/>, as the theory's cases.</summary>
    public static TheoryData<string> TamperingNames => [.. Tamperings.Keys];

    [Theory]
    [MemberData(nameof(TamperingNames))]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithTampering_NamesTheFirstBadSequenceAndTheProblem(string tampering)
    {
        using var chain = TestChain.Create(25);
        var (tamper, firstBad, problem) = Tamperings[tampering];
        tamper(chain);

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(firstBad, result.FirstBadSequence);
        Assert.Equal(problem, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithEditedRecord_NamesItsSequence()
    {
        using var chain = TestChain.Create(25);
        chain.Row(7).ActorUsername = "someone-else";

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(7, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordModified, result.Problem);
        Assert.Contains("7", result.Message, StringComparison.Ordinal);
        Assert.Equal(25, result.RecordsChecked);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithMissingRecord_NamesItsSequence()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.RemoveAll(r => r.Sequence == 12);

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(12, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordMissing, result.Problem);
        Assert.Equal(24, result.RecordsChecked);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithMissingFirstRecord_NamesSequenceOne()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.RemoveAt(0);

        var result = chain.Verify();

        Assert.Equal(1, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordMissing, result.Problem);
        Assert.Equal(2, result.FirstSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithSwappedRecords_NamesTheFirstDisplacedSequence()
    {
        using var chain = TestChain.Create(25);
        (chain.Rows[4], chain.Rows[8]) = (chain.Rows[8], chain.Rows[4]);

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(5, result.FirstBadSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithRenumberedRecords_IsCaught()
    {
        // Records 5 and 9 exchange sequence numbers (content stays): order by sequence hides the swap, the hashes do not.
        using var chain = TestChain.Create(25);
        (chain.Row(5).Sequence, chain.Row(9).Sequence) = (-9, -5);
        chain.Row(-9).Sequence = 9;
        chain.Row(-5).Sequence = 5;
        chain.Rows.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(5, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordModified, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithTailRemovedBeforeACheckpoint_ReportsTruncation()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.RemoveAll(r => r.Sequence >= 16);

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(16, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.Truncated, result.Problem);
        Assert.Equal(15, result.LastSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithEveryRecordRemovedButCheckpointsKept_ReportsTruncationFromOne()
    {
        using var chain = TestChain.Create(25);
        chain.Rows.Clear();

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(1, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.Truncated, result.Problem);
        Assert.Null(result.FirstSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithTailRemovedAfterLastCheckpoint_ReportsLastCheckpointForLivenessJudgement()
    {
        // Records after the newest checkpoint are not yet covered by a signature; what the verifier
        // can give is the time of the newest valid checkpoint so a caller can judge whether it is recent.
        using var chain = TestChain.Create(25);
        chain.Rows.RemoveAll(r => r.Sequence > 20);

        var result = chain.Verify();

        Assert.Equal(20, result.LastSequence);
        Assert.Equal(chain.Checkpoints.Single(c => c.Sequence == 20).TimestampMicros, result.LatestCheckpointMicros);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithForgedCheckpointSignature_NamesTheCheckpoint()
    {
        using var chain = TestChain.Create(25);
        var original = chain.Checkpoints[1];
        var signature = original.Signature.ToArray();
        signature[10] ^= 0x40;
        chain.Checkpoints[1] = original with { Signature = signature };

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(20, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
        Assert.Equal(chain.Checkpoints[0].TimestampMicros, result.LatestCheckpointMicros);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithCheckpointFromAnotherKey_ReportsForgery()
    {
        // The attacker rewrites record 7 onwards and re-signs the checkpoints with a key of their own.
        using var chain = TestChain.Create(25);
        using var attacker = AuditSigningKey.Generate();
        chain.Row(7).Action = "nothing.to.see";
        chain.Rehash(7);
        for (var i = 0; i < chain.Checkpoints.Count; i++)
        {
            var c = chain.Checkpoints[i];
            chain.Checkpoints[i] = attacker.Sign(c.Sequence, chain.Row(c.Sequence).Hash, c.TimestampMicros, c.Kind);
        }

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(10, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
        Assert.Null(result.LatestCheckpointMicros);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithOtherKeysCheckpointClaimingOwnKeyId_ReportsForgery()
    {
        using var chain = TestChain.Create(10, checkpointEvery: 0);
        using var attacker = AuditSigningKey.Generate();
        var forged = attacker.Sign(10, chain.HeadHash, TestChain.BaseMicros, AuditCheckpointKinds.Periodic) with { KeyId = chain.Key.KeyId };
        chain.Checkpoints.Add(forged);

        var result = chain.Verify();

        Assert.Equal(10, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithForgedCheckpointAtSequenceZero_NamesSequenceOne()
    {
        using var chain = new TestChain();
        using var attacker = AuditSigningKey.Generate();
        chain.Sign(AuditCheckpointKinds.Idle, attacker);

        var result = chain.Verify();

        Assert.False(result.Valid);
        Assert.Equal(1, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithUnknownCheckpointKind_ReportsForgery()
    {
        using var chain = TestChain.Create(10, checkpointEvery: 0);
        chain.Sign("whenever");

        var result = chain.Verify();

        Assert.Equal(10, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_AfterPurge_FirstKeptRecordChainsFromTheAnchor()
    {
        using var chain = TestChain.Create(25);
        chain.Purge(12);

        var result = chain.Verify();

        Assert.True(result.Valid, result.Message);
        Assert.Equal(13, result.RecordsChecked);
        Assert.Equal(13, result.FirstSequence);
        Assert.Equal(25, result.LastSequence);
        Assert.Equal(3, result.CheckpointsChecked);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_AfterTwoPurges_UsesTheLatestAnchor()
    {
        using var chain = TestChain.Create(40);
        chain.Purge(12);
        chain.Purge(27);

        var result = chain.Verify();

        Assert.True(result.Valid, result.Message);
        Assert.Equal(28, result.FirstSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_AfterPurgeOfEverything_IsEmptyUntilNewRecords_ThenValid()
    {
        using var chain = TestChain.Create(25);
        chain.Purge(25);
        var emptied = chain.Verify();
        chain.Append(8);

        var continued = chain.Verify();

        // The server appends audit.purged right after a purge, so a log left with no record is never valid.
        Assert.False(emptied.Valid);
        Assert.Equal((AuditVerificationProblems.LogEmpty, 26L), (emptied.Problem, emptied.FirstBadSequence));
        Assert.Equal(0, emptied.RecordsChecked);
        Assert.True(continued.Valid, continued.Message);
        Assert.Equal(26, continued.FirstSequence);
        Assert.Equal(33, continued.LastSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_AfterPurge_EditedFirstKeptRecord_NamesIt()
    {
        using var chain = TestChain.Create(25);
        chain.Purge(12);
        chain.Row(13).ResourceId = "other";

        var result = chain.Verify();

        Assert.Equal(13, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordModified, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_AfterPurge_MissingFirstKeptRecord_NamesIt()
    {
        using var chain = TestChain.Create(25);
        chain.Purge(12);
        chain.Rows.RemoveAll(r => r.Sequence == 13);

        var result = chain.Verify();

        Assert.Equal(13, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordMissing, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithRecordsBeforePurgeAnchor_RefusesThem()
    {
        // Records at or before a purge anchor were removed by rule; if they reappear they were put back.
        using var chain = TestChain.Create(25);
        var kept = chain.Rows.Select(r => r.Clone()).ToList();
        chain.Purge(12);

        var result = chain.Verify(rows: kept);

        Assert.False(result.Valid);
        Assert.Equal(1, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordOutOfOrder, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_WithPurgeAnchorFromAnotherKey_DoesNotExcuseRemovedRecords()
    {
        using var chain = TestChain.Create(25);
        using var attacker = AuditSigningKey.Generate();
        chain.Purge(12, attacker);

        var result = chain.Verify();

        // Without a trusted anchor the log must start at 1; the periodic checkpoints at 10 and 20 then cover records that are gone.
        Assert.False(result.Valid);
        Assert.Equal(1, result.FirstBadSequence);
        Assert.Contains(result.Problem, new[] { AuditVerificationProblems.RecordMissing, AuditVerificationProblems.Truncated });
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithPurgeAnchorOverWrongHash_ReportsTheFirstKeptRecord()
    {
        using var chain = TestChain.Create(25);
        var anchorHash = new byte[AuditCanonicalForm.HashSize];
        chain.Rows.RemoveAll(r => r.Sequence <= 12);
        chain.Checkpoints.Add(chain.Key.Sign(12, anchorHash, TestChain.BaseMicros, AuditCheckpointKinds.Purge));

        var result = chain.Verify();

        Assert.Equal(13, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordModified, result.Problem);
    }

    [Fact]
    public void Verify_NullArguments_Throw()
    {
        using var key = AuditSigningKey.Generate();
        var verifier = new AuditChainVerifier(key);

        Assert.Throws<ArgumentNullException>(() => new AuditChainVerifier(null!));
        Assert.Throws<ArgumentNullException>(() => verifier.Verify((IEnumerable<AuditRow>)null!, []));
        Assert.Throws<ArgumentNullException>(() => verifier.Verify((IAuditRowCursor)null!, []));
        Assert.Throws<ArgumentNullException>(() => verifier.VerifyInParallel(null!, [], 0, 2));
        Assert.Throws<ArgumentNullException>(() => verifier.Verify(Array.Empty<AuditRow>(), null!));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void VerifyInParallel_NamesEveryEditedRecord_WhereverTheRangeBordersFall()
    {
        for (var edited = 1; edited <= 30; edited++)
        {
            using var chain = TestChain.Create(30);
            chain.Row(edited).Action = "audit.tampered";

            // TestChain.Verify also checks that ranges of 1, 3 and 7 records agree with one pass.
            var result = chain.Verify();

            Assert.False(result.Valid);
            Assert.Equal(edited, result.FirstBadSequence);
            Assert.Equal(AuditVerificationProblems.RecordModified, result.Problem);
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void VerifyInParallel_ReadsEachRecordOnce_AndChecksEveryLinkAcrossBorders()
    {
        using var chain = TestChain.Create(100);
        var source = new InMemoryRowSource(chain.Rows);

        var result = new AuditChainVerifier(chain.Key).VerifyInParallel(source, chain.Checkpoints, 100, ranges: 4, minimumRecordsPerRange: 10);

        Assert.True(result.Valid, result.Message);
        Assert.Equal(100, result.RecordsChecked);
        Assert.Equal(1, result.FirstSequence);
        Assert.Equal(100, result.LastSequence);
    }
}
