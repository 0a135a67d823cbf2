using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Federation;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// A restore drill runs a real server on a copy of production with production's keys (OPR-27): whatever the backed-up
/// configuration names outside the scratch directory (witness files, the alert webhook, federation, the backup schedule,
/// the shred ledger, an object store root) the drill's server must not touch. The witness is read for the check, never written.
/// </summary>
public sealed class BackupDrillIsolationTests
{
    [Fact]
    [Trait("Requirement", "OPR-27")]
    [Trait("Requirement", "OPR-21")]
    public async Task A_drill_of_a_backup_whose_configuration_names_witness_webhook_and_federation_writes_no_witness_and_calls_nothing()
    {
        using var work = new TempDirectory();
        var witness = work.File("witness/audit.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(witness)!);
        using var sink = new LoopbackSink();
        using var secret = Crypt4ghPrivateKey.Generate();
        await File.WriteAllTextAsync(work.File("backup.pub"), secret.PublicKey.ToPem(), TestContext.Current.CancellationToken);
        var federation = Federation(work);
        var production = new Dictionary<string, object?>
        {
            ["Audit"] = new { Witnesses = new { Files = new[] { witness } } },
            ["Alerts"] = new
            {
                WebhookUrl = $"http://127.0.0.1:{sink.Port}/hook",
                WebhookSecret = new string('s', 40),
                Rules = new[] { new { Name = "drill-canary", Action = "server.started", GroupBy = "None", Threshold = 1 } },
            },
            ["Federation"] = federation(sink.Port),
            ["Backup"] = new { Interval = "00:01:00", Directory = work.File("production-backups"), RecipientPublicKeyPath = work.File("backup.pub"), ShredLedgerPath = work.File("production-ledger.jsonl") },
            ["Vault"] = new { ObjectStore = new { Root = work.File("production-objects") } },
        };
        var configuration = work.File("spe.json");
        await File.WriteAllTextAsync(configuration, JsonSerializer.Serialize(production), TestContext.Current.CancellationToken);

        // Note: backed up after production stopped, so the backup holds the shutdown checkpoint its witness holds.
        string database;
        await using (var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Audit:Witnesses:Files:0"] = witness }, reuseDirectory: work.File("production")))
        {
            using var client = await server.ClientAsAsync("a", "auditor");
            await client.GetAsync(new Uri("/api/v1/server/info", UriKind.Relative), TestContext.Current.CancellationToken);
            database = server.Database.ConnectionString;
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await BackupWriter.CreateAsync(new BackupSource(work.File("production/data"), database, null, configuration), work.File("backup"), secret.PublicKey, TimeProvider.System,
            TestContext.Current.CancellationToken);

        // The production server has stopped (its shutdown checkpoint is witnessed); nothing but the drill runs from here on.
        var before = await File.ReadAllBytesAsync(witness, TestContext.Current.CancellationToken);
        var witnessed = AuditWitnessFile.ReadAll(witness).Select(w => new AuditWitnessedCheckpoint(w.Checkpoint.ToCheckpoint(), $"line {w.Line}")).ToList();
        Assert.NotEmpty(witnessed);

        var drill = await BackupDrill.RunAsync(work.File("backup"), secret, witnessed, null, null, TestContext.Current.CancellationToken);
        // Give a webhook post or a scheduled backup the drill's server might have started a moment to arrive.
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);

        Assert.True(drill.Audit.Valid, drill.Audit.Message);
        Assert.Equal(200, drill.ReadyStatus);
        Assert.Equal(before, await File.ReadAllBytesAsync(witness, TestContext.Current.CancellationToken));
        Assert.Equal(0, sink.Connections);
        Assert.False(Directory.Exists(work.File("production-backups")) && Directory.EnumerateFileSystemEntries(work.File("production-backups")).Any());
        Assert.False(File.Exists(work.File("production-ledger.jsonl")));
        Assert.False(Directory.Exists(work.File("production-objects")));
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public void The_drill_configuration_keeps_only_the_key_management_of_the_restored_one()
    {
        var restored = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Vault:KeyManagement:Backend"] = "local",
            ["Audit:Witnesses:Endpoints:0:Url"] = "https://witness.example/",
            ["Alerts:Smtp:Host"] = "smtp.example",
            ["ExternalIdentity:Providers:0:Issuer"] = "https://idp.example/",
            ["Tls:CertificatePath"] = "/etc/openspe/tls.crt",
            ["Some:Future:Setting"] = "/production/path",
        }).Build();

        var drill = BackupDrill.DrillConfiguration("/tmp/scratch/data", "Data Source=/tmp/scratch/data/spe.db", restored);

        Assert.Equal("local", drill["Vault:KeyManagement:Backend"]);
        Assert.Equal("/tmp/scratch/data/objects", drill["Vault:ObjectStore:Root"]);
        Assert.All(new[] { "Audit:Witnesses:Endpoints:0:Url", "Alerts:Smtp:Host", "ExternalIdentity:Providers:0:Issuer", "Tls:CertificatePath", "Some:Future:Setting" },
            key => Assert.Null(drill[key]));
    }

    /// <summary>A federation listener on the sink's port (so a drill that started it would fail to bind) with a peer there.</summary>
    private static Func<int, object> Federation(TempDirectory work)
    {
        var notBefore = PermitFixture.Start.AddDays(-30);
        using var ca = FederationCa.Create(work.File("ca"), "test federation CA", notBefore, TimeSpan.FromDays(400));
        ca.Issue("node-a", work.File("certs"), notBefore, notBefore.AddDays(300)).Dispose();
        var crl = ca.CrlPath;
        return port => new
        {
            Listen = $"127.0.0.1:{port}",
            CaCertificate = Path.Combine(work.File("ca"), FederationCa.CertificateFile),
            Crl = crl,
            Certificate = work.File("certs/node-a.crt"),
            Key = work.File("certs/node-a.key"),
            AllowedPeers = new[] { "node-b" },
            Peers = new[] { new { Name = "node-b", Address = $"https://127.0.0.1:{port}" } },
        };
    }

    /// <summary>A loopback listener that counts every connection made to it: a drill must make none.</summary>
    private sealed class LoopbackSink : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _connections;

        public LoopbackSink()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
