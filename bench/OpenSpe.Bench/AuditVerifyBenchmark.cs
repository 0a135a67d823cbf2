using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;

namespace OpenSpe.Bench;

/// <summary>
/// Verification rate of a 200,000-record log (checkpoint every 1,000 records, as the writer
/// signs them). <see cref="VerifyEndToEnd"/> is the figure with a target (at least 500,000
/// records/s); the others split it into its parts: SQLite stepping alone, reading rows into
/// <see cref="AuditRow"/>, canonical JSON alone, SHA-256 alone, canonical JSON plus SHA-256, and
/// the in-memory verifier (which adds the checkpoint signature checks). <see cref="VerifyEndToEnd"/> uses
/// every core (ranges of the log verified at once); <see cref="VerifyOneCore"/> is the same on one.
/// </summary>
[Config(typeof(BenchConfig))]
public class AuditVerifyBenchmark
{
    /// <summary>Records in the log.</summary>
    public const int Records = 200_000;

    private const int BatchSize = 10_000;
    private const int CheckpointEvery = 1_000;

    private BenchDatabase? _database;
    private AuditSigningKey? _key;
    private AuditStore? _store;
    private AuditService? _service;
    private List<AuditRow> _rows = [];
    private List<AuditCheckpoint> _checkpoints = [];
    private byte[][] _canonical = [];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _database = await BenchDatabase.CreateAsync();
        _key = AuditSigningKey.Generate();
        _store = new AuditStore(_database.Database);
        _service = new AuditService(_store, _key, Options.Create(new AuditOptions()), TimeProvider.System);

        // Built exactly as AuditWriter.Build does, written in large transactions with AuditStore.AppendAsync.
        var previous = AuditCanonicalForm.GenesisHash.ToArray();
        var start = AuditTime.ToMicros(DateTimeOffset.UtcNow.AddDays(-1));
        using var hasher = new AuditChainHasher();
        await using (var connection = await _store.OpenAsync())
        {
            for (var batchStart = 1; batchStart <= Records; batchStart += BatchSize)
            {
                var rows = new List<AuditRow>(BatchSize);
                var checkpoints = new List<AuditCheckpoint>();
                for (long sequence = batchStart; sequence < batchStart + BatchSize; sequence++)
                {
                    var now = start + (sequence * 400);
                    var row = AuditRow.FromEntry(sequence, now, BenchEntries.Request((int)sequence));
                    var hash = new byte[AuditCanonicalForm.HashSize];
                    hasher.Compute(row, previous, hash);
                    row.Hash = hash;
                    rows.Add(row);
                    previous = hash;
                    if (sequence % CheckpointEvery == 0)
                    {
                        checkpoints.Add(_key.Sign(sequence, hash, now, AuditCheckpointKinds.Periodic));
                    }
                }

                await AuditStore.AppendAsync(connection, rows, checkpoints);
            }

            _rows = AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
            _checkpoints = await AuditStore.ReadCheckpointsAsync(connection);
        }

        var check = await _service.VerifyAsync();
        if (!check.Valid || check.RecordsChecked != Records)
        {
            throw new InvalidOperationException($"The prepared log does not verify: {check.Message}");
        }

        _canonical = _rows.Select(r =>
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
            AuditCanonicalForm.Write(r, buffer);
            return buffer.WrittenSpan.ToArray();
        }).ToArray();
        Console.WriteLine($"// canonical JSON: {_canonical.Average(c => c.Length):F0} bytes per record on average");
        var size = new FileInfo(Path.Combine(_database.Directory, "spe.db")).Length;
        Console.WriteLine($"// prepared {Records} records, {_checkpoints.Count} checkpoints, database {size / (1024 * 1024)} MiB");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _key?.Dispose();
        _database?.Dispose();
    }

    /// <summary><see cref="AuditService.VerifyAsync(CancellationToken)"/>: open, read checkpoints, stream rows, hash, check checkpoints.</summary>
    [Benchmark(OperationsPerInvoke = Records, Baseline = true)]
    public async Task<long> VerifyEndToEnd()
    {
        var result = await _service!.VerifyAsync();
        return result.Valid ? result.RecordsChecked : throw new InvalidOperationException(result.Message);
    }

    /// <summary>The same verification on one core: a single range through the raw SQLite cursor.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long VerifyOneCore()
    {
        var result = new AuditChainVerifier(_key!).VerifyInParallel(new SqliteAuditRowSource(_database!.Database), _checkpoints, Records, ranges: 1);
        return result.Valid ? result.RecordsChecked : throw new InvalidOperationException(result.Message);
    }

    /// <summary>Only the raw SQLite cursor the verifier reads through: every column as a UTF-8 view, nothing hashed.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long ReadUtf8ViewsOnly()
    {
        using var cursor = new SqliteAuditRowSource(_database!.Database).Open(long.MinValue, long.MaxValue);
        long sum = 0;
        while (cursor.Read(out var row))
        {
            sum += row.Sequence + row.DetailsJson.Length + row.Hash.Length;
        }

        return sum;
    }

    /// <summary>Only the database read: <see cref="AuditStore.ReadRows"/> into the reused row.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public async Task<long> ReadRowsOnly()
    {
        await using var connection = await _store!.OpenAsync();
        long sum = 0;
        foreach (var row in AuditStore.ReadRows(connection))
        {
            sum += row.Sequence + row.DetailsJson.Length;
        }

        return sum;
    }

    /// <summary>Only SQLite stepping through the same query: no column is read (the floor for any reader).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public async Task<long> SqliteStepOnly()
    {
        await using var connection = await _store!.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, timestamp_us, actor_subject, actor_username, actor_roles, actor_client_id, source_ip, user_agent, " +
            "action, resource_type, resource_id, project_id, outcome, http_status, trace_id, details, hash FROM audit_records ORDER BY sequence";
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess);
        long count = 0;
        while (reader.Read())
        {
            count++;
        }

        return count;
    }

    /// <summary>Only SHA-256 chaining over precomputed canonical bytes, with IncrementalHash as the hasher uses it.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public byte Sha256Only()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var previous = new byte[AuditCanonicalForm.HashSize];
        foreach (var bytes in _canonical)
        {
            hash.AppendData(previous);
            hash.AppendData(bytes);
            hash.GetHashAndReset(previous);
        }

        return previous[0];
    }

    /// <summary>Only the canonical JSON of in-memory rows.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long CanonicalJsonOnly()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { SkipValidation = true });
        long bytes = 0;
        foreach (var row in _rows)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            AuditCanonicalForm.Write(row, writer);
            bytes += buffer.WrittenCount;
        }

        return bytes;
    }

    /// <summary>Canonical JSON plus SHA-256 chaining (<see cref="AuditChainHasher"/>) of in-memory rows.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public byte CanonicalAndSha256()
    {
        using var hasher = new AuditChainHasher();
        var previous = AuditCanonicalForm.GenesisHash.ToArray();
        var computed = new byte[AuditCanonicalForm.HashSize];
        foreach (var row in _rows)
        {
            hasher.Compute(row, previous, computed);
            (previous, computed) = (computed, previous);
        }

        return previous[0];
    }

    /// <summary>The verifier over in-memory rows: hashing plus checkpoint signature checks, no database.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long VerifierInMemory()
    {
        var result = new AuditChainVerifier(_key!).Verify(_rows, _checkpoints);
        return result.Valid ? result.RecordsChecked : throw new InvalidOperationException(result.Message);
    }
}
