using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// Checkpoints kept by a witness outside the database: the four ways to rewrite history that the
/// stored checkpoints alone cannot reveal (truncating records with their checkpoints, deleting every
/// checkpoint, emptying the log, rewriting and rehashing after deleting later checkpoints) are caught,
/// and the failure names the witnessed sequence and hash.
/// </summary>
public sealed class AuditWitnessVerifierTests
{
    private const long Day = 86_400_000_000L;

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithWitnessedCheckpointsOfAnUntouchedLog_IsValid()
    {
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);

        var result = chain.Verify(witnessed: witnessed);

        Assert.True(result.Valid, result.Message);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_AfterTruncatingRecordsWithTheirCheckpoints_NamesTheWitnessedCheckpoint()
    {
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);
        chain.Rows.RemoveAll(r => r.Sequence > 15);
        chain.Checkpoints.RemoveAll(c => c.Sequence > 15);

        var withoutWitness = chain.Verify();
        var result = chain.Verify(witnessed: witnessed);

        Assert.True(withoutWitness.Valid, "the stored checkpoints alone cannot see this; the witness must");
        Assert.False(result.Valid);
        Assert.Equal(AuditVerificationProblems.WitnessMissing, result.Problem);
        Assert.Equal(16, result.FirstBadSequence);
        Assert.Contains("sequence 20 (hash " + Convert.ToHexStringLower(witnessed[1].Checkpoint.Hash), result.Message, StringComparison.Ordinal);
        Assert.Contains("the log ends at 15", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_AfterDeletingEveryCheckpoint_NamesTheWitnessedCheckpointThatIsGone()
    {
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);
        chain.Checkpoints.Clear();

        var result = chain.Verify(witnessed: witnessed);

        Assert.False(result.Valid);
        Assert.Equal(AuditVerificationProblems.WitnessMissing, result.Problem);
        Assert.Equal(10, result.FirstBadSequence);
        Assert.Contains("missing from the stored checkpoints", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public void Verify_OfAnEmptiedLog_FailsWithAndWithoutWitness()
    {
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);
        chain.Rows.Clear();
        chain.Checkpoints.Clear();

        var withoutWitness = chain.Verify();
        var result = chain.Verify(witnessed: witnessed);

        Assert.Equal(AuditVerificationProblems.LogEmpty, withoutWitness.Problem);
        Assert.False(result.Valid);
        Assert.Equal(1, result.FirstBadSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_AfterRewritingAndRehashingWithoutTheLaterCheckpoints_NamesExpectedAndFoundHash()
    {
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);
        chain.Row(3).Action = "rewritten";
        chain.Rehash(3);
        chain.Checkpoints.Clear();

        var withoutWitness = chain.Verify();
        var result = chain.Verify(witnessed: witnessed);

        Assert.True(withoutWitness.Valid, "the stored checkpoints alone cannot see this; the witness must");
        Assert.False(result.Valid);
        Assert.Equal(AuditVerificationProblems.WitnessMismatch, result.Problem);
        Assert.Equal(10, result.FirstBadSequence);
        Assert.Contains("sequence 10 (hash " + Convert.ToHexStringLower(witnessed[0].Checkpoint.Hash) + ")", result.Message, StringComparison.Ordinal);
        Assert.Contains("the log has hash " + Convert.ToHexStringLower(chain.Row(10).Hash), result.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithAWitnessedCheckpointSignedByAnotherKey_IsWitnessForged()
    {
        using var chain = TestChain.Create(15);
        using var other = AuditSigningKey.Generate();
        var forged = other.Sign(chain.HeadSequence, chain.HeadHash, TestChain.BaseMicros, AuditCheckpointKinds.Periodic);

        var result = chain.Verify(witnessed: [new AuditWitnessedCheckpoint(forged, "witness w line 1")]);

        Assert.False(result.Valid);
        Assert.Equal(AuditVerificationProblems.WitnessForged, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Verify_WithAWitnessedCheckpointBeforeThePurgeAnchor_IsValid()
    {
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);
        // A purge as the server makes it: more than a year after the records it removes.
        chain.Purge(12, atMicros: TestChain.BaseMicros + (400 * Day));

        var result = chain.Verify(witnessed: witnessed);

        Assert.True(result.Valid, result.Message);
    }

    [Theory]
    [Trait("Requirement", "EHDSR-8")]
    [Trait("Requirement", "EHDSR-6")]
    [InlineData(0, 1826)]
    [InlineData(400, 300)]
    public void Verify_WithAPurgeAnchorPastAWitnessedCheckpointYoungerThanAYear_ReportsRecordsRemovedBeforeTheirTime(int anchorDays, int nowDays)
    {
        // Whoever holds the signing key can sign a purge anchor over recent records; the witness outside the database shows the
        // records it saw were younger than the minimum retention. An anchor dated in the future (400 days on, with the clock at
        // day 300) buys nothing: the bound is counted from now.
        using var chain = TestChain.Create(25);
        var witnessed = Witnessed(chain.Checkpoints);
        chain.Purge(12, atMicros: TestChain.BaseMicros + (anchorDays * Day) + 5_000);
        chain.Now = AuditTime.FromMicros(TestChain.BaseMicros).AddDays(nowDays);

        var result = chain.Verify(witnessed: witnessed);

        Assert.False(result.Valid);
        Assert.Equal((AuditVerificationProblems.WitnessPurgedEarly, 10L), (result.Problem, result.FirstBadSequence));
        Assert.Contains("before it was 365 days old", result.Message, StringComparison.Ordinal);
    }

    private static List<AuditWitnessedCheckpoint> Witnessed(IEnumerable<AuditCheckpoint> checkpoints) =>
        [.. checkpoints.Select((c, i) => new AuditWitnessedCheckpoint(c, $"witness w line {i + 1}"))];
}
