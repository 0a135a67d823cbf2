using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// The server pushes each new checkpoint to its configured witnesses (a file on another volume, an
/// HTTPS endpoint), refuses bad witness settings with one line, and a server restarted on a
/// truncated or rewritten log refuses to start with one line naming the checkpoint.
/// </summary>
public sealed class AuditWitnessPushTests
{
    [Fact]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "OPR-17")]
    public async Task New_checkpoints_reach_a_witness_file_and_an_https_witness()
    {
        using var elsewhere = new TempDirectory();
        var witnessFile = elsewhere.File("witness.jsonl");
        await using var endpoint = await WitnessEndpoint.StartAsync();
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Audit:Witnesses:Files:0"] = witnessFile,
            ["Audit:Witnesses:Endpoints:0:Url"] = endpoint.Url,
            ["Audit:Witnesses:Endpoints:0:CertificateSha256"] = endpoint.Pin,
        });

        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        await server.Services.GetRequiredService<AuditWitnessPublisher>().DrainAsync();
        var held = AuditWitnessFile.ReadAll(witnessFile);
        var posted = AuditCheckpointDocument.Parse(await endpoint.Received.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var key = server.Services.GetRequiredService<AuditSigningKey>();

        var (_, saved) = Assert.Single(held);
        Assert.True(key.Verify(saved.ToCheckpoint()));
        Assert.Equal((saved.Sequence, saved.Hash), (posted.Sequence, posted.Hash));
        Assert.True(key.Verify(posted.ToCheckpoint()));
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task An_https_witness_with_another_certificate_than_pinned_gets_nothing_and_the_server_keeps_going()
    {
        await using var endpoint = await WitnessEndpoint.StartAsync();
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Audit:Witnesses:Endpoints:0:Url"] = endpoint.Url,
            ["Audit:Witnesses:Endpoints:0:CertificateSha256"] = new string('a', 64),
        });

        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        await server.Services.GetRequiredService<AuditWitnessPublisher>().DrainAsync();
        using var auditor = await server.ClientAsAsync("carol", "auditor");
        var after = await auditor.GetAsync("/api/v1/server/info");

        Assert.False(endpoint.Received.Task.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Theory]
    [Trait("Requirement", "OPR-7")]
    [InlineData("Audit:Witnesses:Files:0", "relative/witness.jsonl", "must be an absolute file path")]
    [InlineData("Audit:Witnesses:Files:0", "/no/such/directory/witness.jsonl", "does not exist")]
    [InlineData("Audit:Witnesses:Endpoints:0:Url", "http://127.0.0.1:9/witness", "must be an absolute https:// URL")]
    [InlineData("Audit:Witnesses:Endpoints:0:Url", "https://user:secret@127.0.0.1:9/witness", "without credentials")]
    [InlineData("Audit:Witnesses:Endpoints:0:CertificateSha256", "abc", "64 hex digits")]
    public async Task Bad_witness_settings_stop_the_start_with_one_line(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key.EndsWith("CertificateSha256", StringComparison.Ordinal))
        {
            settings["Audit:Witnesses:Endpoints:0:Url"] = "https://127.0.0.1:9/witness";
        }

        var refused = await Assert.ThrowsAsync<SpeConfigurationException>(() => SpeTestServer.StartAsync(settings: settings));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task A_witness_file_inside_the_data_directory_is_refused()
    {
        using var directory = new TempDirectory();
        Directory.CreateDirectory(directory.File("data"));

        var refused = await Assert.ThrowsAsync<SpeConfigurationException>(() => SpeTestServer.StartAsync(
            settings: new Dictionary<string, string?> { ["Audit:Witnesses:Files:0"] = Path.Combine(directory.Path, "data", "witness.jsonl") },
            reuseDirectory: directory.Path));

        Assert.Contains("inside the data directory", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    [InlineData("truncate")]
    [InlineData("delete-checkpoints")]
    [InlineData("empty")]
    [InlineData("rewrite")]
    public async Task Server_restarted_on_a_tampered_log_refuses_to_start_with_one_line(string attack)
    {
        using var directory = new TempDirectory();
        var first = await SpeTestServer.StartAsync(reuseDirectory: directory.Path);
        using (var auditor = await first.ClientAsAsync("carol", "auditor"))
        {
            for (var i = 0; i < 5; i++)
            {
                await auditor.GetAsync("/api/v1/server/info");
            }
        }

        await first.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        var database = first.Database;
        await first.DisposeAsync();
        await AuditAttacks.ApplyAsync(database, attack);
        var before = await AuditAttacks.CountAsync(database, "SELECT COUNT(*) FROM audit_checkpoints");

        var refused = await Assert.ThrowsAsync<SpeConfigurationException>(() => SpeTestServer.StartAsync(reuseDirectory: directory.Path));
        var after = await AuditAttacks.CountAsync(database, "SELECT COUNT(*) FROM audit_checkpoints");

        Assert.StartsWith("refusing to start: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("SPE12103", refused.Message, StringComparison.Ordinal);
        Assert.Matches("sequence [0-9]+ \\(hash [0-9a-f]{64}\\)", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Equal(before, after);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Server_restarted_on_an_untouched_log_starts()
    {
        using var directory = new TempDirectory();
        var first = await SpeTestServer.StartAsync(reuseDirectory: directory.Path);
        await first.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        await first.DisposeAsync();

        await using var second = await SpeTestServer.StartAsync(reuseDirectory: directory.Path);
        using var auditor = await second.ClientAsAsync("carol", "auditor");
        var verify = await auditor.GetStringAsync("/api/v1/audit/verify");

        Assert.Contains("\"valid\":true", verify, StringComparison.Ordinal);
    }

    /// <summary>A witness that accepts one POST on loopback over HTTPS with its own self-signed certificate.</summary>
    private sealed class WitnessEndpoint : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly X509Certificate2 _certificate;

        private WitnessEndpoint(WebApplication app, X509Certificate2 certificate, string url)
        {
            _app = app;
            _certificate = certificate;
            Url = url;
            Pin = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        }

        public string Url { get; }

        public string Pin { get; }

        public TaskCompletionSource<string> Received { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<WitnessEndpoint> StartAsync()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=witness.test", key, HashAlgorithmName.SHA256);
            using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            var port = SpeTestServer.FreePort();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)));
            var app = builder.Build();
            var endpoint = new WitnessEndpoint(app, certificate, $"https://127.0.0.1:{port}/witness");
            app.MapPost("/witness", async (HttpRequest http) =>
            {
                using var reader = new StreamReader(http.Body);
                endpoint.Received.TrySetResult(await reader.ReadToEndAsync());
                return Results.NoContent();
            });
            await app.StartAsync();
            return endpoint;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _certificate.Dispose();
        }
    }
}
