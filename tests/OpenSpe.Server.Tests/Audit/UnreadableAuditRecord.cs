using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// A real fault in a real audit log for the export's failure tests: one stored record whose hash the store's reader cannot
/// read as bytes, so it throws when it reaches it. The record sits far enough into the log that an export has sent many
/// kilobytes (past the export writer's buffer) before it gets there, so the failure comes after the first byte. Disposing
/// puts the hash back, and the chain verifies again.
/// </summary>
/// <remarks>
/// Note: the fault differs by store because each refuses the other's: SQLite's BLOB column stores text as given (the hash
/// becomes text), where PostgreSQL's bytea refuses text; PostgreSQL's column can drop its NOT NULL for the test (the hash
/// becomes NULL), where SQLite cannot alter a column. Either way the reader's cast to bytes fails on that one row. The
/// constraint is put back on disposal, on a database of the test's own.
/// </remarks>
public sealed class UnreadableAuditRecord : IAsyncDisposable
{
    private const int FillerDetailLength = 1_000;
    private readonly SpeDatabase _database;
    private readonly byte[] _hash;

    private UnreadableAuditRecord(SpeDatabase database, long sequence, byte[] hash, long bytesBefore)
    {
        _database = database;
        Sequence = sequence;
        _hash = hash;
        BytesBefore = bytesBefore;
    }

    /// <summary>The sequence of the record that cannot be read.</summary>
    public long Sequence { get; }

    /// <summary>The bytes of the JSON Lines export that come before the unreadable record.</summary>
    public long BytesBefore { get; }

    /// <summary>
    /// Appends records through the server's own audit writer until the JSON Lines export holds at least
    /// <paramref name="bytesBefore"/> bytes, then makes the record that follows them unreadable.
    /// </summary>
    public static async Task<UnreadableAuditRecord> PlantAsync(SpeTestServer server, long bytesBefore = 512 * 1024)
    {
        ArgumentNullException.ThrowIfNull(server);
        var log = server.Services.GetRequiredService<IAuditLog>();
        var audit = server.Services.GetRequiredService<AuditService>();
        var filler = new Dictionary<string, string>(StringComparer.Ordinal) { ["filler"] = new string('f', FillerDetailLength) };
        for (var i = 0; i < bytesBefore / FillerDetailLength + 1; i++)
        {
            await log.AppendAsync(new AuditEntry(AuditActor.System, "test.filler", AuditResource.None, AuditOutcome.Success, null, null, filler));
        }

        using var export = new MemoryStream();
        await audit.ExportAsync(new AuditQuery(), AuditExportFormat.Jsonl, export);
        export.Position = 0;
        using var reader = new StreamReader(export);
        long before = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (before >= bytesBefore)
            {
                var sequence = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("sequence").GetInt64();
                var database = server.Services.GetRequiredService<SpeDatabase>();
                var hash = (byte[])(await ExecuteAsync(database, "SELECT hash FROM audit_records WHERE sequence = @sequence", sequence, null, scalar: true))!;
                if (database.Provider == DatabaseProvider.Sqlite)
                {
                    await ExecuteAsync(database, "UPDATE audit_records SET hash = @hash WHERE sequence = @sequence", sequence, "not a hash", scalar: false);
                }
                else
                {
                    await ExecuteAsync(database, "ALTER TABLE audit_records ALTER COLUMN hash DROP NOT NULL; UPDATE audit_records SET hash = NULL WHERE sequence = @sequence",
                        sequence, null, scalar: false);
                }

                return new UnreadableAuditRecord(database, sequence, hash, before);
            }

            before += System.Text.Encoding.UTF8.GetByteCount(line) + 1;
        }

        throw new InvalidOperationException($"the export holds only {before} bytes after the filler records");
    }

    /// <summary>Puts the record's hash back (and, on PostgreSQL, the column's NOT NULL).</summary>
    public async ValueTask DisposeAsync() =>
        await ExecuteAsync(_database, _database.Provider == DatabaseProvider.Sqlite
            ? "UPDATE audit_records SET hash = @hash WHERE sequence = @sequence"
            : "UPDATE audit_records SET hash = @hash WHERE sequence = @sequence; ALTER TABLE audit_records ALTER COLUMN hash SET NOT NULL", Sequence, _hash, scalar: false);

    private static async Task<object?> ExecuteAsync(SpeDatabase database, string sql, long sequence, object? hash, bool scalar)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var sequenceParameter = command.CreateParameter();
        sequenceParameter.ParameterName = "@sequence";
        sequenceParameter.Value = sequence;
        command.Parameters.Add(sequenceParameter);
        if (hash is not null)
        {
            var hashParameter = command.CreateParameter();
            hashParameter.ParameterName = "@hash";
            hashParameter.Value = hash;
            command.Parameters.Add(hashParameter);
        }

        return scalar ? await command.ExecuteScalarAsync() : await command.ExecuteNonQueryAsync();
    }
}
