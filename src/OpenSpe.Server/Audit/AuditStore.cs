using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Raw SQL access to the audit tables. The schema comes from the EF migrations; the hot paths
/// (group-commit append, full-log verification) use plain ADO.NET because they are measured in
/// records per second. The SQL is the same on SQLite and PostgreSQL.
/// </summary>
internal sealed class AuditStore(SpeDatabase database)
{
    private const string RowColumns =
        "sequence, timestamp_us, actor_subject, actor_username, actor_roles, actor_client_id, source_ip, user_agent, " +
        "action, resource_type, resource_id, project_id, outcome, http_status, trace_id, details, hash";

    /// <summary>The database.</summary>
    public SpeDatabase Database { get; } = database;

    /// <summary>Opens a connection.</summary>
    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default) => Database.OpenConnectionAsync(cancellationToken);

    /// <summary>The chain head: last sequence, its hash and time, whether held by a record or (after a purge of everything) a checkpoint.</summary>
    public static async Task<AuditHead> ReadHeadAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var head = AuditHead.Empty;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT sequence, hash, timestamp_us FROM audit_records ORDER BY sequence DESC LIMIT 1";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                head = new AuditHead(reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetInt64(2), 0, 0);
            }
        }

        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT sequence, hash, timestamp_us FROM audit_checkpoints ORDER BY sequence DESC, timestamp_us DESC LIMIT 1";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var sequence = reader.GetInt64(0);
                var time = reader.GetInt64(2);
                head = sequence > head.Sequence
                    ? new AuditHead(sequence, (byte[])reader.GetValue(1), time, sequence, time)
                    : head with { CheckpointSequence = sequence, CheckpointMicros = time };
            }
        }

        return head;
    }

    /// <summary>The highest record sequence, or 0 when there are no records.</summary>
    public static async Task<long> ReadLastSequenceAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(sequence) FROM audit_records";
        return await command.ExecuteScalarAsync(cancellationToken) is long last ? last : 0;
    }

    /// <summary>The stored hash of the record at <paramref name="sequence"/>, or null when there is none.</summary>
    public static async Task<byte[]?> ReadRecordHashAsync(DbConnection connection, long sequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT hash FROM audit_records WHERE sequence = @seq";
        Add(command, "@seq", DbType.Int64).Value = sequence;
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    /// <summary>The stored checkpoints at <paramref name="sequence"/> (any kind or time), oldest first.</summary>
    public static Task<List<AuditCheckpoint>> ReadCheckpointsAtAsync(DbConnection connection, long sequence, CancellationToken cancellationToken = default) =>
        ReadCheckpointsWhereAsync(connection, "sequence = @seq", sequence, cancellationToken);

    /// <summary>The stored purge anchors at or after <paramref name="sequence"/>.</summary>
    public static Task<List<AuditCheckpoint>> ReadPurgeAnchorsFromAsync(DbConnection connection, long sequence, CancellationToken cancellationToken = default) =>
        ReadCheckpointsWhereAsync(connection, $"kind = '{AuditCheckpointKinds.Purge}' AND sequence >= @seq", sequence, cancellationToken);

    private static async Task<List<AuditCheckpoint>> ReadCheckpointsWhereAsync(DbConnection connection, string condition, long sequence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new List<AuditCheckpoint>();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT sequence, hash, timestamp_us, kind, key_id, signature FROM audit_checkpoints WHERE {condition} ORDER BY sequence, timestamp_us";
        Add(command, "@seq", DbType.Int64).Value = sequence;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new AuditCheckpoint(reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), (byte[])reader.GetValue(5)));
        }

        return result;
    }

    /// <summary>The newest stored checkpoint (highest sequence, then latest), or null when none was signed.</summary>
    public static async Task<AuditCheckpoint?> ReadLatestCheckpointAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, hash, timestamp_us, kind, key_id, signature FROM audit_checkpoints ORDER BY sequence DESC, timestamp_us DESC LIMIT 1";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AuditCheckpoint(reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), (byte[])reader.GetValue(5))
            : null;
    }

    /// <summary>
    /// True when an append failed because a record with one of its sequence numbers exists: another writer (another
    /// instance on the same database) appended first, and nothing of this append was kept.
    /// </summary>
    public static bool IsSequenceTaken(Exception exception) => exception switch
    {
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067, // SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>Inserts rows and checkpoints in one transaction and commits it durably.</summary>
    public static async Task AppendAsync(DbConnection connection, IReadOnlyList<AuditRow> rows, IReadOnlyList<AuditCheckpoint> checkpoints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(checkpoints);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (rows.Count > 0)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO audit_records ({RowColumns}) VALUES (@seq, @ts, @sub, @name, @roles, @client, @ip, @ua, @action, @rtype, @rid, @project, @outcome, @status, @trace, @details, @hash)";
            var p = new[]
            {
                Add(insert, "@seq", DbType.Int64), Add(insert, "@ts", DbType.Int64), Add(insert, "@sub", DbType.String),
                Add(insert, "@name", DbType.String), Add(insert, "@roles", DbType.String), Add(insert, "@client", DbType.String),
                Add(insert, "@ip", DbType.String), Add(insert, "@ua", DbType.String), Add(insert, "@action", DbType.String),
                Add(insert, "@rtype", DbType.String), Add(insert, "@rid", DbType.String), Add(insert, "@project", DbType.String),
                Add(insert, "@outcome", DbType.String), Add(insert, "@status", DbType.Int32), Add(insert, "@trace", DbType.String),
                Add(insert, "@details", DbType.String), Add(insert, "@hash", DbType.Binary),
            };
            await insert.PrepareAsync(cancellationToken);
            foreach (var row in rows)
            {
                p[0].Value = row.Sequence;
                p[1].Value = row.TimestampMicros;
                p[2].Value = (object?)row.ActorSubject ?? DBNull.Value;
                p[3].Value = (object?)row.ActorUsername ?? DBNull.Value;
                p[4].Value = row.ActorRoles;
                p[5].Value = (object?)row.ActorClientId ?? DBNull.Value;
                p[6].Value = (object?)row.SourceIp ?? DBNull.Value;
                p[7].Value = (object?)row.UserAgent ?? DBNull.Value;
                p[8].Value = row.Action;
                p[9].Value = (object?)row.ResourceType ?? DBNull.Value;
                p[10].Value = (object?)row.ResourceId ?? DBNull.Value;
                p[11].Value = (object?)row.ProjectId ?? DBNull.Value;
                p[12].Value = row.Outcome;
                p[13].Value = (object?)row.HttpStatus ?? DBNull.Value;
                p[14].Value = (object?)row.TraceId ?? DBNull.Value;
                p[15].Value = row.DetailsJson;
                p[16].Value = row.Hash;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        foreach (var checkpoint in checkpoints)
        {
            await InsertCheckpointAsync(connection, transaction, checkpoint, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Reads every checkpoint, oldest first.</summary>
    public static async Task<List<AuditCheckpoint>> ReadCheckpointsAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new List<AuditCheckpoint>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, hash, timestamp_us, kind, key_id, signature FROM audit_checkpoints ORDER BY sequence, timestamp_us";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new AuditCheckpoint(reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), (byte[])reader.GetValue(5)));
        }

        return result;
    }

    /// <summary>
    /// Streams rows in sequence order, reusing one <see cref="AuditRow"/> instance (callers that keep
    /// rows must <see cref="AuditRow.Clone"/> them). Synchronous on purpose: verification reads
    /// millions of rows and async per-row overhead would dominate.
    /// </summary>
    public static IEnumerable<AuditRow> ReadRows(DbConnection connection, AuditQuery? query = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {RowColumns} FROM audit_records");
        var conditions = new List<string>();
        if (query is not null)
        {
            if (query.Actor is not null)
            {
                conditions.Add("(actor_username = @actor OR actor_subject = @actor)");
                Add(command, "@actor", DbType.String).Value = query.Actor;
            }

            if (query.Action is not null)
            {
                conditions.Add("action = @action");
                Add(command, "@action", DbType.String).Value = query.Action;
            }

            if (query.Actions is { } actions)
            {
                // Note: one parameter per action, never the names in the SQL text, because they are caller-supplied strings.
                var names = new List<string>(actions.Count);
                for (var i = 0; i < actions.Count; i++)
                {
                    var name = "@action" + i.ToString(CultureInfo.InvariantCulture);
                    names.Add(name);
                    Add(command, name, DbType.String).Value = actions[i];
                }

                // An empty list matches nothing, as "any of none" should.
                conditions.Add(names.Count == 0 ? "1 = 0" : $"action IN ({string.Join(", ", names)})");
            }

            if (query.ProjectId is not null)
            {
                conditions.Add("project_id = @project");
                Add(command, "@project", DbType.String).Value = query.ProjectId;
            }

            if (query.SinceMicros is { } since)
            {
                conditions.Add("timestamp_us >= @since");
                Add(command, "@since", DbType.Int64).Value = since;
            }

            if (query.UntilMicros is { } until)
            {
                conditions.Add("timestamp_us < @until");
                Add(command, "@until", DbType.Int64).Value = until;
            }

            if (query.AfterSequence is { } after)
            {
                conditions.Add("sequence > @after");
                Add(command, "@after", DbType.Int64).Value = after;
            }
        }

        if (conditions.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", conditions);
        }

        sql.Append(query?.NewestFirst == true ? " ORDER BY sequence DESC" : " ORDER BY sequence");
        if (query?.Limit is { } limit)
        {
            sql.Append(CultureInfo.InvariantCulture, $" LIMIT {limit}");
        }

        command.CommandText = sql.ToString();
        using var reader = command.ExecuteReader();
        var row = new AuditRow();
        while (reader.Read())
        {
            row.Sequence = reader.GetInt64(0);
            row.TimestampMicros = reader.GetInt64(1);
            // One GetValue per nullable column (a DBNull is not a string): separate IsDBNull calls cost as much as the read.
            row.ActorSubject = reader.GetValue(2) as string;
            row.ActorUsername = reader.GetValue(3) as string;
            row.ActorRoles = reader.GetString(4);
            row.ActorClientId = reader.GetValue(5) as string;
            row.SourceIp = reader.GetValue(6) as string;
            row.UserAgent = reader.GetValue(7) as string;
            row.Action = reader.GetString(8);
            row.ResourceType = reader.GetValue(9) as string;
            row.ResourceId = reader.GetValue(10) as string;
            row.ProjectId = reader.GetValue(11) as string;
            row.Outcome = reader.GetString(12);
            row.HttpStatus = reader.GetValue(13) switch { int i => i, long l => (int)l, _ => null };
            row.TraceId = reader.GetValue(14) as string;
            row.DetailsJson = reader.GetString(15);
            row.Hash = (byte[])reader.GetValue(16);
            yield return row;
        }
    }

    /// <summary>
    /// Removes records older than <paramref name="cutoffMicros"/> and, in the same transaction,
    /// stores the signed purge checkpoint that anchors the first record kept.
    /// </summary>
    /// <returns>The number of records removed and the new anchor, or null when nothing was old enough.</returns>
    public static async Task<(long Removed, AuditCheckpoint Anchor)?> PurgeAsync(DbConnection connection, long cutoffMicros, Func<long, byte[], AuditCheckpoint> signAnchor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(signAnchor);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long anchor;
        byte[] hash;
        await using (var find = connection.CreateCommand())
        {
            find.Transaction = transaction;
            // Note: sequence and time grow together (the writer never lets time go backwards), so the
            // records older than the cutoff are exactly a prefix of the chain.
            find.CommandText = "SELECT sequence, hash FROM audit_records WHERE timestamp_us < @cutoff ORDER BY sequence DESC LIMIT 1";
            Add(find, "@cutoff", DbType.Int64).Value = cutoffMicros;
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            anchor = reader.GetInt64(0);
            hash = (byte[])reader.GetValue(1);
        }

        long removed;
        await using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM audit_records WHERE sequence <= @anchor";
            Add(delete, "@anchor", DbType.Int64).Value = anchor;
            removed = await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        var checkpoint = signAnchor(anchor, hash);
        await InsertCheckpointAsync(connection, transaction, checkpoint, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (removed, checkpoint);
    }

    /// <summary>Proves the store takes writes now: takes and releases the write lock without changing anything.</summary>
    public static async Task ProbeWritableAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM audit_checkpoints WHERE id < 0";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
    }

    private static async Task InsertCheckpointAsync(DbConnection connection, DbTransaction transaction, AuditCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO audit_checkpoints (sequence, hash, timestamp_us, kind, key_id, signature) VALUES (@seq, @hash, @ts, @kind, @key, @sig)";
        Add(command, "@seq", DbType.Int64).Value = checkpoint.Sequence;
        Add(command, "@hash", DbType.Binary).Value = checkpoint.Hash;
        Add(command, "@ts", DbType.Int64).Value = checkpoint.TimestampMicros;
        Add(command, "@kind", DbType.String).Value = checkpoint.Kind;
        Add(command, "@key", DbType.String).Value = checkpoint.KeyId;
        Add(command, "@sig", DbType.Binary).Value = checkpoint.Signature;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbParameter Add(DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }

}

/// <summary>Where the chain ends.</summary>
/// <param name="Sequence">Last sequence (0 when empty).</param>
/// <param name="Hash">Its chain hash.</param>
/// <param name="TimestampMicros">Its time.</param>
/// <param name="CheckpointSequence">Sequence of the latest checkpoint.</param>
/// <param name="CheckpointMicros">Time of the latest checkpoint.</param>
internal sealed record AuditHead(long Sequence, byte[] Hash, long TimestampMicros, long CheckpointSequence, long CheckpointMicros)
{
    /// <summary>A log with nothing in it.</summary>
    public static AuditHead Empty { get; } = new(0, AuditCanonicalForm.GenesisHash.ToArray(), 0, 0, 0);
}
