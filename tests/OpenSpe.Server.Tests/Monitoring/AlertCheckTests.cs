using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The periodic checks (EHDSR-9, TIR-13, TIR-34) in a running server on a fake clock: each fires once when its condition
/// begins, not on every run, again after it clears and returns, and reaches the webhook (its signature checked) and the alert list.
/// </summary>
public sealed class AlertCheckTests : IAsyncLifetime
{
    private readonly TempDirectory _witnessDirectory = new();
    private AlertWebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync() => _receiver = await AlertWebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _witnessDirectory.Dispose();
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Free_disk_below_the_reserve_fires_at_start_once_and_not_again_on_later_runs()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, new() { ["Alerts:DiskReserveBytes"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var checks = server.Services.GetRequiredService<PeriodicAlertChecks>();

        var alert = await NextAsync("disk-free-reserve");
        var later = await checks.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.Equal("data-directory", alert.GetProperty("key").GetString());
        Assert.DoesNotContain(later, a => a.Rule == "disk-free-reserve");
        using var op = await server.ClientForAccountAsync("operator");
        var listed = await op.GetFromJsonAsync<JsonElement>("/api/v1/alerts?state=open", TestContext.Current.CancellationToken);
        Assert.Single(listed.GetProperty("items").EnumerateArray(), a => a.GetProperty("rule").GetString() == "disk-free-reserve");
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_tls_certificate_within_14_days_of_expiry_fires_once_on_the_timer()
    {
        // Note: the server presents a certificate that ends 14 days and 2 minutes from now, so the clock moves minutes. Moving
        // it a year to the end of a new certificate fired every periodic timer once per period passed (a million audit
        // checkpoint ticks), which cost this test over a minute of CPU.
        var now = DateTimeOffset.UtcNow;
        using var certificates = new TempDirectory();
        TlsCertificates.LoadOrCreateDev(DataDirectory.Open(certificates.Path), new FakeTimeProvider(now.AddDays(14).AddMinutes(2) - TlsCertificates.DevValidity)).Dispose();
        var clock = new FakeTimeProvider(now);
        await using var server = await StartAsync(clock, new()
        {
            ["Tls:CertificatePath"] = certificates.File(TlsCertificates.DevCertificateName),
            ["Tls:KeyPath"] = certificates.File(TlsCertificates.DevKeyName),
            ["Alerts:CheckInterval"] = "00:05:00",
        });
        var checks = server.Services.GetRequiredService<PeriodicAlertChecks>();
        var notAfter = new DateTimeOffset(server.Services.GetRequiredService<X509Certificate2>().NotAfter.ToUniversalTime());
        Assert.InRange(notAfter - now, TimeSpan.FromDays(14), TimeSpan.FromDays(14).Add(TimeSpan.FromMinutes(3)));

        var before = await checks.RunOnceAsync(TestContext.Current.CancellationToken);
        clock.Advance(TimeSpan.FromMinutes(5)); // the timer's interval: the hosted service runs the checks itself
        var alert = await NextAsync("certificate-expiry");
        var again = await checks.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain(before, a => a.Rule == "certificate-expiry");
        Assert.Equal(("tls", 13L), (alert.GetProperty("key").GetString(), alert.GetProperty("value").GetInt64()));
        Assert.DoesNotContain(again, a => a.Rule == "certificate-expiry");
    }

    [Fact]
    [Trait("Requirement", "TIR-34")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_federation_certificate_within_14_days_of_expiry_fires_once_under_its_own_key()
    {
        // Note: the node's federation identity is put in place directly (a certificate ending in 10 days), because the rule
        // reads the certificates the server presents; the federation listener and its peers are the federation tests' part.
        var now = DateTimeOffset.UtcNow;
        using var nodeKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=node-a", nodeKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var certificate = request.CreateSelfSigned(now.AddDays(-355), now.AddDays(10));
        var clock = new FakeTimeProvider(now);
        await using var server = await SpeTestServer.StartAsync(time: clock, settings: _receiver.Settings(null),
            services: s => s.AddSingleton(new OpenSpe.Server.Federation.FederationNodeIdentity("node-a", null, certificate, certificate)));
        var checks = server.Services.GetRequiredService<PeriodicAlertChecks>();

        var alert = await NextAsync("certificate-expiry");
        var again = await checks.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.Equal("federation", alert.GetProperty("key").GetString());
        Assert.InRange(alert.GetProperty("value").GetInt64(), 9, 10);
        Assert.DoesNotContain(again, a => a.Rule == "certificate-expiry");
        Assert.DoesNotContain(await checks.StartRun, a => a.Rule == "certificate-expiry" && a.Key == "tls");
    }

    [Fact]
    [Trait("Requirement", "TIR-34")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_witness_not_written_for_a_day_fires_once_clears_when_written_and_fires_again_when_stale_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var witness = Path.Combine(_witnessDirectory.Path, "witness.jsonl");
        await using var server = await StartAsync(clock, new() { ["Audit:Witnesses:Files:0"] = witness });
        var checks = server.Services.GetRequiredService<PeriodicAlertChecks>();
        if (!File.Exists(witness))
        {
            await File.WriteAllTextAsync(witness, "", TestContext.Current.CancellationToken);
        }

        // Note: the clock stands still, so the server signs no checkpoint that would write the witness meanwhile.
        File.SetLastWriteTimeUtc(witness, clock.GetUtcNow().AddDays(-3).UtcDateTime);
        var stale = await checks.RunOnceAsync(TestContext.Current.CancellationToken);
        var still = await checks.RunOnceAsync(TestContext.Current.CancellationToken);
        File.SetLastWriteTimeUtc(witness, clock.GetUtcNow().UtcDateTime);
        var cleared = await checks.RunOnceAsync(TestContext.Current.CancellationToken);
        File.SetLastWriteTimeUtc(witness, clock.GetUtcNow().AddDays(-3).UtcDateTime);
        var returned = await checks.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.Equal(witness, Assert.Single(stale, a => a.Rule == "witness-stale").Key);
        Assert.DoesNotContain(still, a => a.Rule == "witness-stale");
        Assert.DoesNotContain(cleared, a => a.Rule == "witness-stale");
        Assert.Equal(witness, Assert.Single(returned, a => a.Rule == "witness-stale").Key);
        Assert.Equal(witness, (await NextAsync("witness-stale")).GetProperty("key").GetString());
        Assert.Equal(witness, (await NextAsync("witness-stale")).GetProperty("key").GetString());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_default_check_switched_off_by_name_does_not_run()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, new()
        {
            ["Alerts:DiskReserveBytes"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alerts:Rules:0:Name"] = "disk-free-reserve",
            ["Alerts:Rules:0:Check"] = "DiskFree",
            ["Alerts:Rules:0:Enabled"] = "false",
        });

        var fired = await server.Services.GetRequiredService<PeriodicAlertChecks>().RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain(server.Services.GetRequiredService<AlertEvaluator>().Rules, r => r.Name == "disk-free-reserve");
        Assert.DoesNotContain(fired, a => a.Rule == "disk-free-reserve");
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task An_https_witness_that_takes_no_checkpoint_for_a_day_fires_and_one_that_takes_them_does_not()
    {
        using var tls = new TempDirectory();
        using var certificate = TlsCertificates.LoadOrCreateDev(DataDirectory.Open(tls.Path), TimeProvider.System);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        await using var witness = builder.Build();
        var pushes = 0;
        witness.MapPost("/witness", () =>
        {
            Interlocked.Increment(ref pushes);
            return Results.NoContent();
        });
        await witness.StartAsync(TestContext.Current.CancellationToken);
        var accepting = witness.Urls.First() + "/witness";
        var refusing = $"https://127.0.0.1:{SpeTestServer.FreePort()}/witness";
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, new()
        {
            ["Audit:Witnesses:Endpoints:0:Url"] = accepting,
            ["Audit:Witnesses:Endpoints:0:CertificateSha256"] = TlsCertificates.Fingerprint(certificate),
            ["Audit:Witnesses:Endpoints:1:Url"] = refusing + "?token=a-credential-the-alert-must-not-carry",
        });
        var checks = server.Services.GetRequiredService<PeriodicAlertChecks>();

        clock.Advance(TimeSpan.FromHours(25));
        using (await server.Client.GetAsync(new Uri("/api/v1/server/info", UriKind.Relative), TestContext.Current.CancellationToken))
        {
        }

        await server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditWriter>().SignCheckpointNowAsync(TestContext.Current.CancellationToken);
        await server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditWitnessPublisher>().DrainAsync();
        await checks.RunOnceAsync(TestContext.Current.CancellationToken);
        // Note: the conditions in force after this run, not what this run fired: moving the clock also ticks the hosted
        // checks, which may fire the refusing witness first, or (between the request's record and the push) the accepting
        // one for a moment before this run clears it.
        var active = JsonSerializer.Deserialize<JsonElement>(await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "data", PeriodicAlertChecks.StateFileName), TestContext.Current.CancellationToken));
        var stale = active.EnumerateArray().Where(c => c.GetProperty("Rule").GetString() == "witness-stale").Select(c => c.GetProperty("Key").GetString()).ToList();
        var posted = await NextAsync("witness-stale");
        if (posted.GetProperty("key").GetString() != refusing)
        {
            posted = await NextAsync("witness-stale");
        }

        Assert.True(Volatile.Read(ref pushes) > 0, "the accepting witness received no checkpoint");
        Assert.Equal([refusing], stale);
        Assert.Equal(refusing, posted.GetProperty("key").GetString());
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_condition_in_force_before_a_restart_does_not_fire_again_after_it()
    {
        using var directory = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["Alerts:DiskReserveBytes"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using (var first = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), settings, directory.Path))
        {
            Assert.Single(await first.Services.GetRequiredService<PeriodicAlertChecks>().StartRun, a => a.Rule == "disk-free-reserve");
            await first.StopKeepingDataAsync();
        }

        await using var second = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), settings, directory.Path);
        var checks = second.Services.GetRequiredService<PeriodicAlertChecks>();
        var atStart = await checks.StartRun;
        var later = await checks.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain(atStart, a => a.Rule == "disk-free-reserve");
        Assert.DoesNotContain(later, a => a.Rule == "disk-free-reserve");
        Assert.True(File.Exists(Path.Combine(directory.Path, "data", PeriodicAlertChecks.StateFileName)));
    }

    /// <summary>The next webhook post of <paramref name="rule"/> (others are skipped), its signature checked.</summary>
    private Task<JsonElement> NextAsync(string rule) => _receiver.NextAsync(rule);

    private Task<SpeTestServer> StartAsync(TimeProvider time, Dictionary<string, string?>? settings = null, string? reuseDirectory = null)
    {
        return SpeTestServer.StartAsync(time: time, settings: _receiver.Settings(settings), reuseDirectory: reuseDirectory);
    }
}
