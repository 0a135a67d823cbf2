using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Persistence;
using SQLitePCL;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Audit rows straight from SQLite's own buffers: each cursor is a prepared statement on its own
/// connection whose columns are handed to the verifier as UTF-8 views, never copied into strings.
/// Reading columns through <see cref="SqliteDataReader"/> cost twice as much as hashing them, and
/// through SQLitePCL's wrappers (two managed-to-native transitions per column) as much again, so
/// the column accessors are imported directly without a GC transition.
/// </summary>
internal sealed partial class SqliteAuditRowSource(SpeDatabase database) : IAuditRowSource
{
    private const string RowsSql =
        "SELECT sequence, timestamp_us, actor_subject, actor_username, actor_roles, actor_client_id, source_ip, user_agent, " +
        "action, resource_type, resource_id, project_id, outcome, http_status, trace_id, details, hash " +
        "FROM audit_records WHERE sequence > ?1 AND sequence <= ?2 ORDER BY sequence";

    /// <inheritdoc/>
    public IAuditRowCursor Open(long afterSequence, long throughSequence) => new Cursor(OpenRaw(), afterSequence, throughSequence);

    /// <inheritdoc/>
    public byte[]? StoredHash(long sequence)
    {
        using var connection = new SqliteConnection(database.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT hash FROM audit_records WHERE sequence = @sequence";
        command.Parameters.AddWithValue("@sequence", sequence);
        return command.ExecuteScalar() as byte[];
    }

    private sqlite3 OpenRaw()
    {
        // Note: a private connection without SQLite's per-call mutex (one thread reads it), which
        // Microsoft.Data.Sqlite's connections take on every column access. Never creates the file.
        var path = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
        var rc = raw.sqlite3_open_v2(path, out var db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_NOMUTEX, null);
        if (rc != raw.SQLITE_OK)
        {
            var message = db is null ? rc.ToString(System.Globalization.CultureInfo.InvariantCulture) : raw.sqlite3_errmsg(db).utf8_to_string();
            db?.Dispose();
            throw new SqliteException($"Opening the audit log for verification failed: {message}", rc);
        }

        raw.sqlite3_busy_timeout(db, database.BusyTimeoutMilliseconds);
        return db;
    }

    private sealed class Cursor : IAuditRowCursor
    {
        private readonly sqlite3 _connection;
        private readonly sqlite3_stmt _statement;
        private readonly nint _handle;

        public Cursor(sqlite3 connection, long afterSequence, long throughSequence)
        {
            _connection = connection;
            var rc = raw.sqlite3_prepare_v2(connection, RowsSql, out _statement);
            if (rc != raw.SQLITE_OK)
            {
                var message = raw.sqlite3_errmsg(connection).utf8_to_string();
                _statement?.Dispose();
                connection.Dispose();
                throw new SqliteException($"Reading the audit log failed: {message}", rc);
            }

            Check(raw.sqlite3_bind_int64(_statement, 1, afterSequence));
            Check(raw.sqlite3_bind_int64(_statement, 2, throughSequence));
            _handle = _statement.DangerousGetHandle();
        }

        public bool Read(out AuditRowUtf8 row)
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc == raw.SQLITE_DONE)
            {
                row = default;
                return false;
            }

            if (rc != raw.SQLITE_ROW)
            {
                Check(rc);
            }

            row = new AuditRowUtf8
            {
                Sequence = Native.ColumnInt64(_handle, 0),
                TimestampMicros = Native.ColumnInt64(_handle, 1),
                ActorSubject = Column(2),
                ActorUsername = Column(3),
                ActorRoles = Bytes(4),
                ActorClientId = Column(5),
                SourceIp = Column(6),
                UserAgent = Column(7),
                Action = Bytes(8),
                ResourceType = Column(9),
                ResourceId = Column(10),
                ProjectId = Column(11),
                Outcome = Bytes(12),
                HttpStatus = Native.ColumnType(_handle, 13) == raw.SQLITE_NULL ? null : (int)Native.ColumnInt64(_handle, 13),
                TraceId = Column(14),
                DetailsJson = Bytes(15),
                Hash = Bytes(16),
            };
            return true;
        }

        public void Dispose()
        {
            _statement.Dispose();
            _connection.Dispose();
        }

        private Utf8Column Column(int index) =>
            Native.ColumnType(_handle, index) == raw.SQLITE_NULL ? Utf8Column.Null : new Utf8Column(Bytes(index));

        // Note: for a TEXT column sqlite3_column_blob returns the stored UTF-8 bytes without conversion;
        // the bytes stay valid until the next step, which is as long as the row view lives.
        private unsafe ReadOnlySpan<byte> Bytes(int index)
        {
            var data = Native.ColumnBlob(_handle, index);
            return data == 0 ? [] : new ReadOnlySpan<byte>((void*)data, Native.ColumnBytes(_handle, index));
        }

        private void Check(int rc)
        {
            if (rc != raw.SQLITE_OK)
            {
                throw new SqliteException($"Reading the audit log failed: {raw.sqlite3_errmsg(_connection).utf8_to_string()}", rc);
            }
        }
    }

    /// <summary>
    /// The column accessors of the SQLite library that Microsoft.Data.Sqlite loaded. They only read
    /// the current row of a statement this thread owns, never block, and return at once, which is
    /// what running without a GC transition requires.
    /// </summary>
    private static partial class Native
    {
        private const string Library = "e_sqlite3";

        [LibraryImport(Library, EntryPoint = "sqlite3_column_blob")]
        [SuppressGCTransition]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        public static partial nint ColumnBlob(nint statement, int column);

        [LibraryImport(Library, EntryPoint = "sqlite3_column_bytes")]
        [SuppressGCTransition]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        public static partial int ColumnBytes(nint statement, int column);

        [LibraryImport(Library, EntryPoint = "sqlite3_column_type")]
        [SuppressGCTransition]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        public static partial int ColumnType(nint statement, int column);

        [LibraryImport(Library, EntryPoint = "sqlite3_column_int64")]
        [SuppressGCTransition]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        public static partial long ColumnInt64(nint statement, int column);
    }
}
