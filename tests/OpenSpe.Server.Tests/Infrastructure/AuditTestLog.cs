using System.Data.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>An audit log on a real database (SQLite file or a fresh PostgreSQL database) without the HTTP host.</summary>
internal sealed class AuditTestLog : IAsyncDisposable
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
        Data = DataDirectory.Open(directory.File("data"));
        Writer = NewWriter();
        // Note: ranges of 4 records, so every SQLite audit test also crosses the borders of parallel verification.
        Service = new AuditService(Store, Key, Microsoft.Extensions.Options.Options.Create(options), time) { RecordsPerVerifyRange = 4 };
    }

    public SpeDatabase Database { get; }

    public AuditOptions Options { get; }

    public TimeProvider Time { get; }

    public AuditSigningKey Key { get; }

    public AuditStore Store { get; }

    public AuditWriter Writer { get; private set; }

    /// <summary>The directory where the last signed checkpoint is recorded (as the server's data directory).</summary>
    public DataDirectory Data { get; }

    /// <summary>The file recording the last signed checkpoint.</summary>
    public string StateFile => Data.File(AuditCheckpointLedger.StateFileName);

    /// <summary>A writer with a fresh ledger on <see cref="Data"/> (as after a restart), pushing to <paramref name="witnessFiles"/>.</summary>
    public AuditWriter NewWriter(IReadOnlyList<string>? witnessFiles = null)
    {
        var files = witnessFiles ?? [];
        var publisher = new AuditWitnessPublisher(new AuditWitnessOptions { Files = [.. files] }, NullLogger.Instance);
        var ledger = new AuditCheckpointLedger(Data, Key, files, publisher, NullLogger.Instance);
        return new AuditWriter(Store, Key, Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<AuditWriter>.Instance, ledger);
    }

    /// <summary>Stops the writer (it signs its shutdown checkpoint), as a server that stops.</summary>
    public ValueTask StopWriterAsync() => Writer.DisposeAsync();

    /// <summary>Starts a new writer on the same log, as a restarted server; throws what its start throws.</summary>
    public async Task RestartWriterAsync(IReadOnlyList<string>? witnessFiles = null)
    {
        await Writer.DisposeAsync();
        Writer = NewWriter(witnessFiles);
        await Writer.StartAsync();
    }

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
