using System.Data.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>An audit log on a real database (SQLite file or a fresh PostgreSQL database) without the HTTP host.</summary>
public sealed class AuditTestLog : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private AuditTestLog(TempDirectory directory, SpeDatabase database, AuditOptions options, TimeProvider time)
    {
        _directory = directory;
        Database = database;
        Options = options;
        Time = time;
        Key = AuditSigningKey.Generate();
        Store = new AuditStore(database);
        Writer = new AuditWriter(Store, Key, Microsoft.Extensions.Options.Options.Create(options), time, NullLogger<AuditWriter>.Instance);
        // Note: ranges of 4 records, so every SQLite audit test also crosses the borders of parallel verification.
        Service = new AuditService(Store, Key, Microsoft.Extensions.Options.Options.Create(options), time) { RecordsPerVerifyRange = 4 };
    }

    public SpeDatabase Database { get; }

    public AuditOptions Options { get; }

    public TimeProvider Time { get; }

    public AuditSigningKey Key { get; }

    public AuditStore Store { get; }

    public AuditWriter Writer { get; }

    public AuditService Service { get; }

    public static async Task<AuditTestLog> CreateAsync(TestBackend backend, AuditOptions? options = null, TimeProvider? time = null)
    {
        var directory = new TempDirectory();
        try
        {
            var connection = await TestDatabases.CreateAsync(backend, directory.Path);
            var database = SpeDatabase.Resolve(new DatabaseOptions { ConnectionString = connection, SqliteBusyTimeoutMilliseconds = 200 }, directory.Path);
            await database.MigrateAsync();
            var log = new AuditTestLog(directory, database, options ?? new AuditOptions { CheckpointEveryRecords = 10 }, time ?? TimeProvider.System);
            await log.Writer.StartAsync();
            return log;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public static AuditEntry Entry(int i, string action = "test.action") => new(
        new AuditActor("sub-" + i, "user" + i, ["researcher"], null, "127.0.0.1", "tests"),
        action,
        new AuditResource("thing", i.ToString(System.Globalization.CultureInfo.InvariantCulture), "project-1"),
        AuditOutcome.Success,
        200,
        System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString(),
        new Dictionary<string, string> { ["i"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>Appends <paramref name="count"/> entries one after another.</summary>
    public async Task AppendAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Writer.AppendAsync(Entry(i));
        }
    }

    public async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = await Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var connection = await Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<DbConnection> OpenAsync() => Database.OpenConnectionAsync();

    public Task<AuditVerificationResult> VerifyAsync() => Service.VerifyAsync();

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        Key.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
