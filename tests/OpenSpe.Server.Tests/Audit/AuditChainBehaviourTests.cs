using Microsoft.Extensions.Time.Testing;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// The audit log's guarantees, run against every database backend (SQLite and PostgreSQL):
/// tampering of each kind is caught and the first bad record is named; checkpoints are signed
/// on schedule; purge keeps the rest verifiable; concurrent appends share commits.
/// </summary>
public abstract class AuditChainBehaviourTests
{
    protected abstract TestBackend Backend { get; }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Untouched_log_verifies()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        var result = await log.VerifyAsync();

        Assert.True(result.Valid, result.Message);
        Assert.Equal(25, result.RecordsChecked);
        Assert.Equal(1, result.FirstSequence);
        Assert.Equal(25, result.LastSequence);
        Assert.Equal(2, result.CheckpointsChecked);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Edited_field_is_named_as_first_bad_record()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        await log.ExecuteAsync("UPDATE audit_records SET actor_username = 'someone-else' WHERE sequence = 7");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(7, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordModified, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Deleted_row_is_named()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        await log.ExecuteAsync("DELETE FROM audit_records WHERE sequence = 12");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(12, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.RecordMissing, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Swapped_rows_are_named()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        await log.ExecuteAsync("UPDATE audit_records SET sequence = -5 WHERE sequence = 5");
        await log.ExecuteAsync("UPDATE audit_records SET sequence = 5 WHERE sequence = 9");
        await log.ExecuteAsync("UPDATE audit_records SET sequence = 9 WHERE sequence = -5");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(5, result.FirstBadSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Inserted_row_is_named()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        // Make room at 10 by renumbering the tail (highest first, so the primary key never collides), then insert a forged record there.
        for (var s = 25; s >= 10; s--)
        {
            await log.ExecuteAsync($"UPDATE audit_records SET sequence = {s + 1} WHERE sequence = {s}");
        }

        await log.ExecuteAsync(
            "INSERT INTO audit_records (sequence, timestamp_us, actor_roles, action, outcome, details, hash) " +
            "SELECT 10, timestamp_us, '', 'forged.action', 'success', '{}', hash FROM audit_records WHERE sequence = 9");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(10, result.FirstBadSequence);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Truncated_tail_is_caught_by_the_signed_checkpoint()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        await log.ExecuteAsync("DELETE FROM audit_records WHERE sequence > 15");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(16, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.Truncated, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Forged_checkpoint_is_named()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        // Point the checkpoint at sequence 10 to a different head without the private key.
        await log.ExecuteAsync("UPDATE audit_checkpoints SET sequence = 11 WHERE sequence = 10");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(11, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Checkpoint_signed_by_another_key_is_refused()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(5);
        using var attacker = AuditSigningKey.Generate();
        await using (var connection = await log.OpenAsync())
        {
            var head = await AuditStore.ReadHeadAsync(connection);
            await AuditStore.AppendAsync(connection, [], [attacker.Sign(head.Sequence, head.Hash, head.TimestampMicros, AuditCheckpointKinds.Periodic)]);
        }

        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(5, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointForged, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Rewritten_chain_is_caught_by_the_checkpoint_it_contradicts()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(15);

        // An attacker without the signing key edits record 3 and recomputes every hash after it.
        await log.ExecuteAsync("UPDATE audit_records SET action = 'rewritten' WHERE sequence = 3");
        var rows = new List<AuditRow>();
        await using (var connection = await log.OpenAsync())
        {
            rows.AddRange(AuditStore.ReadRows(connection).Select(r => r.Clone()));
        }

        using var hasher = new AuditChainHasher();
        var previous = new byte[32];
        foreach (var row in rows)
        {
            var hash = new byte[32];
            hasher.Compute(row, previous, hash);
            await log.ExecuteAsync($"UPDATE audit_records SET hash = {HexLiteral(hash)} WHERE sequence = {row.Sequence}");
            previous = hash;
        }

        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(10, result.FirstBadSequence);
        Assert.Equal(AuditVerificationProblems.CheckpointMismatch, result.Problem);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Checkpoint_is_signed_at_least_every_configured_number_of_records()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(35);

        var checkpoints = await log.Service.CheckpointsAsync();

        Assert.Equal([10L, 20L, 30L], checkpoints.Select(c => c.Sequence));
        Assert.All(checkpoints, c => Assert.True(log.Key.Verify(c)));
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Quiet_log_is_re_signed_so_a_verifier_can_tell_it_is_live()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var log = await AuditTestLog.CreateAsync(Backend, new AuditOptions { CheckpointEveryRecords = 1000, CheckpointInterval = TimeSpan.FromSeconds(60) }, time);
        await log.AppendAsync(3);

        time.Advance(TimeSpan.FromSeconds(30));
        await WaitForCheckpointsAsync(log, 1);
        time.Advance(TimeSpan.FromSeconds(30));
        await WaitForCheckpointsAsync(log, 2);
        var checkpoints = await log.Service.CheckpointsAsync();

        Assert.Equal(AuditCheckpointKinds.Periodic, checkpoints[0].Kind);
        Assert.Equal(AuditCheckpointKinds.Idle, checkpoints[1].Kind);
        Assert.Equal(3, checkpoints[1].Sequence);
        Assert.True(checkpoints[1].TimestampMicros > checkpoints[0].TimestampMicros);
        Assert.True((await log.VerifyAsync()).Valid);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-8")]
    [Trait("Requirement", "OPR-17")]
    public async Task Purge_removes_only_records_older_than_retention_and_the_rest_still_verifies()
    {
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        await using var log = await AuditTestLog.CreateAsync(Backend, new AuditOptions { CheckpointEveryRecords = 7, RetentionDays = 365 }, time);
        await log.AppendAsync(20);
        time.Advance(TimeSpan.FromDays(300));
        await log.AppendAsync(10);
        time.Advance(TimeSpan.FromDays(100));

        var result = await log.Service.PurgeAsync(log.Key);
        await log.AppendAsync(4);
        var verification = await log.VerifyAsync();

        Assert.Equal(20, result.Removed);
        Assert.Equal(20, result.AnchorSequence);
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(21, verification.FirstSequence);
        Assert.Equal(34, verification.LastSequence);
        Assert.Equal(14, await log.CountAsync("SELECT COUNT(*) FROM audit_records"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Deleting_records_after_a_purge_anchor_is_still_caught()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var log = await AuditTestLog.CreateAsync(Backend, new AuditOptions { RetentionDays = 365 }, time);
        await log.AppendAsync(10);
        time.Advance(TimeSpan.FromDays(400));
        await log.AppendAsync(10);
        await log.Service.PurgeAsync(log.Key);

        await log.ExecuteAsync("DELETE FROM audit_records WHERE sequence = 11");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(11, result.FirstBadSequence);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Concurrent_appends_share_commits_and_keep_a_gapless_chain()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend, new AuditOptions { CheckpointEveryRecords = 100 });

        var sequences = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() => log.Writer.AppendAsync(AuditTestLog.Entry(i)))));
        var result = await log.VerifyAsync();

        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), sequences.Order());
        Assert.True(log.Writer.CommitCount < 500, $"{log.Writer.CommitCount} commits for 500 appends: group commit did not batch");
        Assert.True(result.Valid, result.Message);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task A_query_for_several_actions_newest_first_with_a_limit_is_answered_in_sql()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        string[] actions = ["backup.created", "backup.failed", "backup.drill", "other.thing"];
        var sequences = new List<(long Sequence, string Action)>();
        for (var i = 0; i < 12; i++)
        {
            var action = actions[i % actions.Length];
            sequences.Add((await log.Writer.AppendAsync(AuditTestLog.Entry(i, action)), action));
        }

        var newest = await log.Service.QueryAsync(new AuditQuery(Actions: ["backup.created", "backup.drill"], Limit: 3, NewestFirst: true));
        var both = await log.Service.QueryAsync(new AuditQuery(Action: "backup.failed", Actions: ["backup.created", "backup.drill"]));
        var none = await log.Service.QueryAsync(new AuditQuery(Actions: []));
        var quoted = await log.Service.QueryAsync(new AuditQuery(Actions: ["x' OR '1'='1"]));
        var oldestFirst = await log.Service.QueryAsync(new AuditQuery(Actions: ["backup.failed"]));

        var expected = sequences.Where(s => s.Action is "backup.created" or "backup.drill").Select(s => s.Sequence).OrderDescending().Take(3);
        Assert.Equal(expected, newest.Select(r => r.Sequence));
        Assert.Empty(both);
        Assert.Empty(none);
        Assert.Empty(quoted);
        Assert.Equal(sequences.Where(s => s.Action == "backup.failed").Select(s => s.Sequence), oldestFirst.Select(r => r.Sequence));
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Writer_restarted_on_an_existing_log_continues_the_chain()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(5);
        await using (var second = new AuditWriter(log.Store, log.Key, Microsoft.Extensions.Options.Options.Create(log.Options), TimeProvider.System,
                         Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditWriter>.Instance))
        {
            await second.StartAsync();
            Assert.Equal(6, await second.AppendAsync(AuditTestLog.Entry(99)));
        }

        Assert.True((await log.VerifyAsync()).Valid);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Malformed_entry_fails_only_its_caller_and_the_writer_keeps_going()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        var tooManyDetails = Enumerable.Range(0, 40).ToDictionary(i => "k" + i, i => "v");
        var bad = AuditTestLog.Entry(1) with { Details = tooManyDetails };

        await Assert.ThrowsAsync<ArgumentException>(() => log.Writer.AppendAsync(bad));
        var next = await log.Writer.AppendAsync(AuditTestLog.Entry(2));

        Assert.Equal(1, next);
        Assert.True(log.Writer.IsHealthy);
    }

    private static async Task WaitForCheckpointsAsync(AuditTestLog log, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await log.Service.CheckpointsAsync()).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint #{count} was signed");
            await Task.Delay(10);
        }
    }

    private string HexLiteral(byte[] bytes) => Backend == TestBackend.Sqlite
        ? $"X'{Convert.ToHexString(bytes)}'"
        : $"'\\x{Convert.ToHexString(bytes)}'::bytea";
}

public sealed class SqliteAuditChainBehaviourTests : AuditChainBehaviourTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;

    [Theory]
    [Trait("Requirement", "EHDSR-6")]
    [InlineData("actor_username = CAST(X'C328' AS TEXT)")] // not UTF-8: only something other than the writer puts it there
    [InlineData("details = ''")]
    [InlineData("hash = X'00'")]
    [InlineData("outcome = 'fine'")]
    public async Task Stored_bytes_the_writer_never_writes_are_named_not_crashed_on(string assignment)
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        await log.ExecuteAsync($"UPDATE audit_records SET {assignment} WHERE sequence = 9");
        var result = await log.VerifyAsync();

        Assert.False(result.Valid);
        Assert.Equal(9, result.FirstBadSequence);
    }
}

public sealed class PostgresAuditChainBehaviourTests : AuditChainBehaviourTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
