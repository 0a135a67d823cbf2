using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Microsoft.Data.Sqlite;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Bench;

/// <summary>
/// Short, single-launch runs: every invocation is a large batch (tens of thousands of records),
/// so one invocation per iteration is plenty and the Op/s column reads directly as records/s.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    /// <summary>One launch, two warm-up and five measured iterations of one invocation each.</summary>
    public static readonly Job ShortJob = Job.Default
        .WithStrategy(RunStrategy.Monitoring)
        .WithLaunchCount(1)
        .WithWarmupCount(2)
        .WithIterationCount(5)
        .WithInvocationCount(1)
        .WithUnrollFactor(1);

    public BenchConfig()
    {
        AddJob(ShortJob);
        AddColumn(StatisticColumn.OperationsPerSecond);
        AddColumn(StatisticColumn.Min, StatisticColumn.Max);
        SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithMaxParameterColumnWidth(40);
    }
}

/// <summary>A SQLite database in a fresh temp directory, migrated, with the server's durability settings (WAL, synchronous=FULL).</summary>
internal sealed class BenchDatabase : IDisposable
{
    private BenchDatabase(string directory, SpeDatabase database)
    {
        Directory = directory;
        Database = database;
    }

    public string Directory { get; }

    public SpeDatabase Database { get; }

    public static async Task<BenchDatabase> CreateAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "openspe-bench", Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var database = SpeDatabase.Resolve(new DatabaseOptions { ConnectionString = $"Data Source={Path.Combine(directory, "spe.db")}" }, directory);
        await database.MigrateAsync();
        return new BenchDatabase(directory, database);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp cleaner gets the rest.
        }
    }
}

/// <summary>Entries shaped like the ones the request middleware writes for an authenticated GET.</summary>
internal static class BenchEntries
{
    private static readonly string[] Roles = ["auditor", "researcher"];

    public static AuditEntry Request(int i) => new(
        new AuditActor("sub-" + (i % 500).ToString(System.Globalization.CultureInfo.InvariantCulture), "user" + (i % 500).ToString(System.Globalization.CultureInfo.InvariantCulture), Roles, "spe-cli", "10.1.2.3", "spe/0.1 (linux-x64)"),
        "server.info",
        new AuditResource(null, null, null),
        AuditOutcome.Success,
        200,
        System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString(),
        new Dictionary<string, string>(StringComparer.Ordinal) { ["method"] = "GET", ["path"] = "/api/v1/server/info" });
}

/// <summary>Loopback ports for the servers the benchmarks start.</summary>
internal static class BenchPorts
{
    /// <summary>A port that was free a moment ago.</summary>
    public static int Free()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>HTTP clients for a bench's server: its self-signed certificate pinned by SHA-256, a bearer token, HTTP/1.1.</summary>
internal static class BenchHttp
{
    public static HttpClient PinnedClient(Uri baseUrl, string fingerprint, string token, int connections = 1)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())), fingerprint, StringComparison.OrdinalIgnoreCase),
            },
        };
        var client = new HttpClient(handler)
        {
            BaseAddress = baseUrl,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
