using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace OpenSpe.Server.Persistence;

/// <summary>
/// The chosen database: its provider, its connection string, and factories for raw connections
/// (the audit log's hot path) and EF Core contexts (everything else).
/// </summary>
internal sealed class SpeDatabase
{
    private SpeDatabase(DatabaseProvider provider, string connectionString, int busyTimeoutMs)
    {
        Provider = provider;
        ConnectionString = connectionString;
        BusyTimeoutMilliseconds = busyTimeoutMs;
    }

    /// <summary>The engine.</summary>
    public DatabaseProvider Provider { get; }

    /// <summary>The full connection string. Never logged: it may hold a password.</summary>
    public string ConnectionString { get; }

    /// <summary>Lock wait before a write fails.</summary>
    public int BusyTimeoutMilliseconds { get; }

    /// <summary>A description without secrets, for logs and the audit log.</summary>
    public string Describe() => Provider switch
    {
        DatabaseProvider.Sqlite => $"sqlite:{new SqliteConnectionStringBuilder(ConnectionString).DataSource}",
        _ => DescribePostgres(),
    };

    /// <summary>Resolves the configured database; SQLite in <paramref name="dataDirectory"/> when nothing is set.</summary>
    public static SpeDatabase Resolve(DatabaseOptions options, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.ConnectionString?.Trim();
        if (string.IsNullOrEmpty(configured))
        {
            configured = $"Data Source={Path.Combine(dataDirectory, "spe.db")}";
        }

        if (configured.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            var npgsql = new NpgsqlConnectionStringBuilder(configured);
            return new SpeDatabase(DatabaseProvider.PostgreSql, npgsql.ConnectionString, options.SqliteBusyTimeoutMilliseconds);
        }

        var sqlite = new SqliteConnectionStringBuilder(configured)
        {
            // Note: pooling keeps the WAL journal mode and pragmas per connection cheap to re-apply.
            Pooling = true,
            DefaultTimeout = Math.Max(1, options.SqliteBusyTimeoutMilliseconds / 1000),
        };
        return new SpeDatabase(DatabaseProvider.Sqlite, sqlite.ConnectionString, options.SqliteBusyTimeoutMilliseconds);
    }

    /// <summary>Opens a raw connection with the durability settings the audit log relies on.</summary>
    public async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        DbConnection connection = Provider == DatabaseProvider.Sqlite
            ? new SqliteConnection(ConnectionString)
            : new NpgsqlConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Provider == DatabaseProvider.Sqlite)
            {
                await using var pragma = connection.CreateCommand();
                // Note: WAL with synchronous=FULL fsyncs the log at every commit, so an acknowledged write survives a power cut.
                pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout={BusyTimeoutMilliseconds};";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }
            else
            {
                await using var timeout = connection.CreateCommand();
                // Note: a bounded lock wait makes a blocked audit store fail (and the request fail closed) instead of hanging.
                timeout.CommandText = $"SET lock_timeout = {BusyTimeoutMilliseconds}";
                await timeout.ExecuteNonQueryAsync(cancellationToken);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an EF Core context for this database.</summary>
    public SpeDbContext CreateDbContext() => Provider == DatabaseProvider.Sqlite
        ? new SqliteSpeDbContext(new DbContextOptionsBuilder<SqliteSpeDbContext>().UseSqlite(ConnectionString).Options)
        : new PostgresSpeDbContext(new DbContextOptionsBuilder<PostgresSpeDbContext>().UseNpgsql(ConnectionString).Options);

    /// <summary>Applies pending migrations (at start, before anything else touches the database).</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            var source = new SqliteConnectionStringBuilder(ConnectionString).DataSource;
            var directory = Path.GetDirectoryName(Path.GetFullPath(source));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }
        }

        await using var context = CreateDbContext();
        await context.Database.MigrateAsync(cancellationToken);
        if (Provider == DatabaseProvider.Sqlite)
        {
            // WAL mode is a property of the database file: switch it on once, before the first writer.
            await using var connection = await OpenConnectionAsync(cancellationToken);
        }
    }

    private string DescribePostgres()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
