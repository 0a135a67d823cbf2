using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// The writer's memory of what it signed, against every database backend: restarted on a log that
/// was truncated, emptied, stripped of its checkpoints or rewritten, it refuses to sign anything and
/// names the checkpoint it misses; the same holds for the newest checkpoint of a witness file; on an
/// untouched log it continues. Each attack is made with plain SQL, as someone who can write the
/// database but not read the signing key would.
/// </summary>
public abstract class AuditWitnessBehaviourTests
{
    protected abstract TestBackend Backend { get; }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Restart_on_an_untouched_log_continues_and_records_the_shutdown_checkpoint()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);

        await log.RestartWriterAsync();
        var next = await log.Writer.AppendAsync(AuditTestLog.Entry(99));
        var recorded = AuditCheckpointDocument.Parse(File.ReadAllText(log.StateFile));

        Assert.Equal(26, next);
        Assert.Equal((25L, AuditCheckpointKinds.Shutdown), (recorded.Sequence, recorded.Kind));
        Assert.True(log.Key.Verify(recorded.ToCheckpoint()));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Restart_after_deleting_the_last_records_with_their_checkpoints_is_refused()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);
        await log.StopWriterAsync();

        await log.ExecuteAsync("DELETE FROM audit_records WHERE sequence > 15");
        await log.ExecuteAsync("DELETE FROM audit_checkpoints WHERE sequence > 15");
        var refused = await Assert.ThrowsAsync<AuditLogRegressionException>(() => log.RestartWriterAsync());

        Assert.Contains("ends at sequence 15", refused.Message, StringComparison.Ordinal);
        Assert.Contains("sequence 25 (hash ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(15, await log.CountAsync("SELECT MAX(sequence) FROM audit_records"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Restart_after_deleting_every_checkpoint_is_refused()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);
        await log.StopWriterAsync();

        await log.ExecuteAsync("DELETE FROM audit_checkpoints");
        var refused = await Assert.ThrowsAsync<AuditLogRegressionException>(() => log.RestartWriterAsync());

        Assert.Contains("no such checkpoint is stored", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await log.CountAsync("SELECT COUNT(*) FROM audit_checkpoints"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Restart_on_an_emptied_log_is_refused()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);
        await log.StopWriterAsync();

        await log.ExecuteAsync("DELETE FROM audit_records");
        await log.ExecuteAsync("DELETE FROM audit_checkpoints");
        var refused = await Assert.ThrowsAsync<AuditLogRegressionException>(() => log.RestartWriterAsync());

        Assert.Contains("ends at sequence 0", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await log.CountAsync("SELECT COUNT(*) FROM audit_checkpoints"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Restart_after_rewriting_a_record_and_recomputing_the_chain_is_refused()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);
        await log.StopWriterAsync();

        await RewriteAsync(log, 3);
        await log.ExecuteAsync("DELETE FROM audit_checkpoints WHERE sequence >= 3");
        var refused = await Assert.ThrowsAsync<AuditLogRegressionException>(() => log.RestartWriterAsync());

        Assert.Contains("sequence 25 (hash ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await log.CountAsync("SELECT COUNT(*) FROM audit_checkpoints"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Restart_after_rewriting_with_the_checkpoint_rows_kept_names_the_hash_found()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        await log.AppendAsync(25);
        await log.StopWriterAsync();

        await RewriteAsync(log, 3);
        var refused = await Assert.ThrowsAsync<AuditLogRegressionException>(() => log.RestartWriterAsync());

        Assert.Contains("record 25 has hash ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("rewritten", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Restart_is_refused_when_a_witness_file_holds_a_checkpoint_the_log_lost_even_without_the_state_file()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend);
        using var elsewhere = new TempDirectory();
        var witness = elsewhere.File("witness.jsonl");
        await log.RestartWriterAsync([witness]);
        await log.AppendAsync(25);
        await log.StopWriterAsync();
        var held = AuditWitnessFile.ReadAll(witness);

        File.Delete(log.StateFile);
        await log.ExecuteAsync("DELETE FROM audit_records WHERE sequence > 20");
        await log.ExecuteAsync("DELETE FROM audit_checkpoints WHERE sequence > 20");
        var refused = await Assert.ThrowsAsync<AuditLogRegressionException>(() => log.RestartWriterAsync([witness]));

        Assert.Equal((25L, AuditCheckpointKinds.Shutdown), (held[^1].Checkpoint.Sequence, held[^1].Checkpoint.Kind));
        Assert.All(held, h => Assert.True(log.Key.Verify(h.Checkpoint.ToCheckpoint())));
        Assert.Contains($"witness file {witness}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ends at sequence 20", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Log_changed_under_a_running_writer_makes_it_refuse_to_sign_and_fail_closed()
    {
        await using var log = await AuditTestLog.CreateAsync(Backend, new AuditOptions { CheckpointEveryRecords = 10 });
        await log.AppendAsync(25);

        // Truncated under the running writer; a failing commit then makes it re-read the head.
        await log.ExecuteAsync("DELETE FROM audit_records WHERE sequence > 5");
        await log.ExecuteAsync("DELETE FROM audit_checkpoints WHERE sequence > 5");
        await log.ExecuteAsync("INSERT INTO audit_records (sequence, timestamp_us, actor_roles, action, outcome, details, hash) " +
                               "SELECT 26, timestamp_us, '', 'blocker', 'success', '{}', hash FROM audit_records WHERE sequence = 5");
        var failed = await Assert.ThrowsAsync<AuditUnavailableException>(() => log.Writer.AppendAsync(AuditTestLog.Entry(1)));
        var stillFailing = await Assert.ThrowsAsync<AuditUnavailableException>(() => log.Writer.AppendAsync(AuditTestLog.Entry(2)));

        Assert.IsType<AuditLogRegressionException>(stillFailing.InnerException);
        Assert.False(log.Writer.IsHealthy);
        Assert.NotNull(failed);
        Assert.Equal(0, await log.CountAsync("SELECT COUNT(*) FROM audit_checkpoints WHERE sequence > 5"));
    }

    /// <summary>Changes record <paramref name="sequence"/> and recomputes every hash from it on, as an attacker without the key would.</summary>
    private async Task RewriteAsync(AuditTestLog log, long sequence)
    {
        await log.ExecuteAsync($"UPDATE audit_records SET action = 'rewritten' WHERE sequence = {sequence}");
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
    }

    private string HexLiteral(byte[] bytes) => Backend == TestBackend.Sqlite
        ? $"X'{Convert.ToHexString(bytes)}'"
        : $"'\\x{Convert.ToHexString(bytes)}'::bytea";
}

public sealed class SqliteAuditWitnessBehaviourTests : AuditWitnessBehaviourTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresAuditWitnessBehaviourTests : AuditWitnessBehaviourTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
