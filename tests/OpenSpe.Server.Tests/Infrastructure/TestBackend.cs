using Microsoft.EntityFrameworkCore;
using Npgsql;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>The database engines the shared behaviour suites run against.</summary>
public enum TestBackend
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// Finds the PostgreSQL that .ci/run starts (SPE_TEST_POSTGRES, default 127.0.0.1:55432) and
/// gives each test its own fresh database, copied from a template the migrations built once per test run. Without one, PostgreSQL tests skip with the reason,
/// or fail when SPE_REQUIRE_ALL=1 (as in CI).
/// </summary>
public static class TestDatabases
{
    private static readonly string AdminConnectionString =
        Environment.GetEnvironmentVariable("SPE_TEST_POSTGRES") is { Length: > 0 } configured
            ? configured
            : "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres";

    private static readonly Lazy<Task<string?>> Unavailable = new(ProbeAsync);

    // Note: migrating every test's database took most of a PostgreSQL test's time (29 migrations, a durable commit each);
    // a copy of a migrated template is one CREATE DATABASE. The server still runs its migrations on it (none pending).
    private static readonly Lazy<Task<string>> Template = new(CreateTemplateAsync);

    /// <summary>A connection string for a new, empty database on <paramref name="backend"/>.</summary>
    public static async Task<string> CreateAsync(TestBackend backend, string directory)
    {
        if (backend == TestBackend.Sqlite)
        {
            var file = Path.Combine(directory, "spe.db");
            if (!File.Exists(file))
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                File.Copy(await SqliteTemplate.Value, file);
            }

            return $"Data Source={file}";
        }

        var reason = await Unavailable.Value;
        if (reason is not null)
        {
            Requirements.Missing($"PostgreSQL is not reachable ({reason}); start it with `bash .ci/start-postgres.sh` (needs Debian's postgresql package) or set SPE_TEST_POSTGRES");
        }

        var template = await Template.Value;
        var database = await CreateDatabaseAsync("spe_test_", $"TEMPLATE {template}");

        // Note: with pooling off every query paid a new PostgreSQL backend (a fork and cold catalog caches), which made a
        // PostgreSQL test 3-5 times slower than its SQLite twin. Pooled, with idle connections closed within seconds, so the
        // hundreds of test databases a run creates never hold max_connections.
        return new NpgsqlConnectionStringBuilder(database) { Pooling = true, ConnectionIdleLifetime = 2, ConnectionPruningInterval = 1 }.ConnectionString;
    }

    // Note: the same for SQLite: 29 migrations cost 50-100 ms a server; a file copy of a migrated database costs almost nothing.
    private static readonly Lazy<Task<string>> SqliteTemplate = new(CreateSqliteTemplateAsync);

    private static async Task<string> CreateSqliteTemplateAsync()
    {
        var file = Path.Combine(Path.GetTempPath(), $"spe-template-{Environment.ProcessId}-{Guid.NewGuid():N}.db");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(file);
        await using (var context = new SqliteSpeDbContext(new DbContextOptionsBuilder<SqliteSpeDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options))
        {
            await context.Database.MigrateAsync();
        }

        return file;
    }

    private static async Task<string> CreateTemplateAsync()
    {
        var connectionString = await CreateDatabaseAsync("spe_template_", "");
        await using (var context = new PostgresSpeDbContext(new DbContextOptionsBuilder<PostgresSpeDbContext>().UseNpgsql(connectionString).Options))
        {
            await context.Database.MigrateAsync();
        }

        // Pooling is off, so no connection stays open to the template: PostgreSQL copies only a database nobody is connected to.
        return new NpgsqlConnectionStringBuilder(connectionString).Database!;
    }

    private static async Task<string> CreateDatabaseAsync(string prefix, string clause)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name} {clause}";
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = false }.ConnectionString;
    }

    private static async Task<string?> ProbeAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString + ";Timeout=3");
            await connection.OpenAsync();
            return null;
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return ex.Message;
        }
    }
}

/// <summary>What a test does when a real component it needs is missing.</summary>
public static class Requirements
{
    /// <summary>True in CI: a missing component is a failure, not a skip.</summary>
    public static bool RequireAll => Environment.GetEnvironmentVariable("SPE_REQUIRE_ALL") == "1";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Announced = new(StringComparer.Ordinal);

    /// <summary>Skips (or, with SPE_REQUIRE_ALL=1, fails) the current test with the reason.</summary>
    /// <remarks>
    /// The default `dotnet test` output names skipped tests but not why; the first skip for each reason also goes out as one
    /// diagnostic line (xunit.runner.json turns them on), so a new user sees what is missing and how to start it.
    /// </remarks>
    public static void Missing(string reason)
    {
        if (RequireAll)
        {
            Assert.Fail(reason + " (SPE_REQUIRE_ALL=1)");
        }

        if (Announced.TryAdd(reason, true))
        {
            TestContext.Current.SendDiagnosticMessage("SKIPPING tests that need it: " + reason);
        }

        Assert.Skip(reason);
    }
}
