using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Contracts;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Portal;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// What each witness of the signed checkpoints holds, as the auditor sees it through <c>GET /api/v1/audit/witnesses</c> and on
/// <c>/audit</c>: up to date, behind, failing (with why, never the endpoint's query), unreadable, and contradicting the log —
/// a genuine checkpoint the log has fallen behind, or one the server's key never signed. Only auditors get it.
/// </summary>
public sealed class AuditWitnessStatusTests : IAsyncDisposable
{
    private const string Credential = "a-credential-the-status-must-not-show";
    private readonly TempDirectory _elsewhere = new();
    private WebApplication? _witness;

    [Fact]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Each_witness_shows_what_it_holds_and_a_contradiction_or_a_failure_says_why()
    {
        var (accepting, pin) = await StartHttpsWitnessAsync();
        var refusing = $"https://127.0.0.1:{SpeTestServer.FreePort()}/witness";
        string[] files = ["current", "behind", "ahead", "forged", "garbage"];
        var settings = new Dictionary<string, string?>
        {
            ["Audit:Witnesses:Endpoints:0:Url"] = accepting,
            ["Audit:Witnesses:Endpoints:0:CertificateSha256"] = pin,
            ["Audit:Witnesses:Endpoints:1:Url"] = refusing + "?token=" + Credential,
        };
        for (var i = 0; i < files.Length; i++)
        {
            settings[$"Audit:Witnesses:Files:{i}"] = _elsewhere.File(files[i] + ".jsonl");
        }

        await using var server = await SpeTestServer.StartAsync(settings: settings);
        using var auditor = await server.ClientAsAsync("carol", "auditor");
        await SignAsync(server);
        var first = AuditWitnessFile.Last(_elsewhere.File("behind.jsonl"))!;
        (await auditor.GetAsync("/api/v1/server/info", TestContext.Current.CancellationToken)).Dispose();
        await SignAsync(server);
        var latest = AuditWitnessFile.Last(_elsewhere.File("current.jsonl"))!;
        // Note: each file is then made into one case: an older genuine checkpoint; a genuine checkpoint ahead of the log
        // (what a truncated log looks like); one the server's key never signed; and bytes that are no witness file.
        await File.WriteAllTextAsync(_elsewhere.File("behind.jsonl"), first.ToJsonLine() + "\n", TestContext.Current.CancellationToken);
        var key = server.Services.GetRequiredService<AuditSigningKey>();
        var ahead = AuditCheckpointDocument.From(key.Sign(latest.Sequence + 100, RandomNumberGenerator.GetBytes(32), AuditTime.ToMicros(latest.Timestamp.AddSeconds(1)), AuditCheckpointKinds.Periodic), key);
        await File.AppendAllTextAsync(_elsewhere.File("ahead.jsonl"), ahead.ToJsonLine() + "\n", TestContext.Current.CancellationToken);
        var forged = latest with { Sequence = latest.Sequence + 1, Timestamp = latest.Timestamp.AddSeconds(1) };
        await File.AppendAllTextAsync(_elsewhere.File("forged.jsonl"), forged.ToJsonLine() + "\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(_elsewhere.File("garbage.jsonl"), "not a checkpoint\n", TestContext.Current.CancellationToken);

        using var answer = await auditor.GetAsync("/api/v1/audit/witnesses", TestContext.Current.CancellationToken);
        var raw = await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var view = (await answer.Content.ReadFromJsonAsync<AuditWitnessesView>(TestContext.Current.CancellationToken))!;
        var byName = view.Witnesses.ToDictionary(w => w.Name);
        AuditWitnessView Held(string name) => byName[_elsewhere.File(name + ".jsonl")];

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(latest.Sequence, view.LatestSequence);
        Assert.Equal(["file", "file", "file", "file", "file", "endpoint", "endpoint"], view.Witnesses.Select(w => w.Kind));
        Assert.Equal((AuditWitnessStates.Current, latest.Sequence, latest.Hash, 0L), (Held("current").State, Held("current").Sequence, Held("current").Hash, Held("current").RecordsBehind));
        Assert.NotNull(Held("current").AcceptedAt);
        Assert.Equal((AuditWitnessStates.Behind, first.Sequence, latest.Sequence - first.Sequence), (Held("behind").State, Held("behind").Sequence, Held("behind").RecordsBehind));
        Assert.Equal(AuditWitnessStates.Disagrees, Held("ahead").State);
        Assert.Contains("the log was truncated", Held("ahead").LastFailure, StringComparison.Ordinal);
        Assert.Equal(AuditWitnessStates.Disagrees, Held("forged").State);
        Assert.Contains("not signed by this server's key", Held("forged").LastFailure, StringComparison.Ordinal);
        Assert.Equal(AuditWitnessStates.Unreadable, Held("garbage").State);
        Assert.Equal((AuditWitnessStates.Current, latest.Sequence), (byName[accepting].State, byName[accepting].Sequence));
        Assert.Equal(AuditWitnessStates.Failing, byName[refusing].State);
        Assert.Null(byName[refusing].Sequence);
        Assert.Contains("could not be reached", byName[refusing].LastFailure, StringComparison.Ordinal);
        Assert.NotNull(byName[refusing].LastFailureAt);
        Assert.DoesNotContain(Credential, raw, StringComparison.Ordinal);

        using var portal = new PortalBrowser(server);
        using var _ = await portal.SignInAsync("carol");
        using var page = await portal.GetAsync("/audit");
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"witnesses-disagree\"", html, StringComparison.Ordinal);
        foreach (var state in new[] { AuditWitnessStates.Current, AuditWitnessStates.Behind, AuditWitnessStates.Disagrees, AuditWitnessStates.Unreadable, AuditWitnessStates.Failing })
        {
            Assert.Contains($"data-state=\"{state}\"", html, StringComparison.Ordinal);
        }

        Assert.Contains("Contradicts the log", html, StringComparison.Ordinal);
        Assert.Contains($"({latest.Sequence - first.Sequence} records signed since)", html, StringComparison.Ordinal);
        Assert.DoesNotContain(Credential, html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task An_endpoints_last_accepted_checkpoint_is_remembered_across_a_restart_without_its_credential()
    {
        var (accepting, pin) = await StartHttpsWitnessAsync();
        using var directory = new TempDirectory();
        var settings = new Dictionary<string, string?>
        {
            ["Audit:Witnesses:Endpoints:0:Url"] = accepting + "?token=" + Credential,
            ["Audit:Witnesses:Endpoints:0:CertificateSha256"] = pin,
        };
        long accepted;
        await using (var first = await SpeTestServer.StartAsync(settings: settings, reuseDirectory: directory.Path))
        {
            await SignAsync(first);
            using var auditor = await first.ClientForAccountAsync("auditor");
            var before = await auditor.GetFromJsonAsync<AuditWitnessesView>("/api/v1/audit/witnesses", TestContext.Current.CancellationToken);
            accepted = Assert.Single(before!.Witnesses).Sequence!.Value;
        }

        // Note: an endpoint that answers nothing after the restart, so that only the kept record can say what it took.
        await _witness!.StopAsync(TestContext.Current.CancellationToken);
        await using var second = await SpeTestServer.StartAsync(settings: settings, reuseDirectory: directory.Path);
        using var again = await second.ClientForAccountAsync("auditor");
        var after = Assert.Single((await again.GetFromJsonAsync<AuditWitnessesView>("/api/v1/audit/witnesses", TestContext.Current.CancellationToken))!.Witnesses);
        var record = await File.ReadAllTextAsync(Path.Combine(directory.Path, "data", AuditWitnessPublisher.StateFileName), TestContext.Current.CancellationToken);

        Assert.NotEqual(AuditWitnessStates.Empty, after.State);
        Assert.True(after.Sequence >= accepted, $"{after.Sequence} < {accepted}");
        Assert.NotNull(after.AcceptedAt);
        Assert.DoesNotContain(Credential, record, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", record, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Without_witnesses_the_list_is_empty_and_the_page_says_to_configure_one()
    {
        await using var server = await SpeTestServer.StartAsync();
        await SignAsync(server);
        using var auditor = await server.ClientAsAsync("carol", "auditor");

        var view = await auditor.GetFromJsonAsync<AuditWitnessesView>("/api/v1/audit/witnesses", TestContext.Current.CancellationToken);
        using var portal = new PortalBrowser(server);
        using var _ = await portal.SignInAsync("carol");
        using var page = await portal.GetAsync("/audit");
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Empty(view!.Witnesses);
        Assert.NotNull(view.LatestSequence);
        Assert.Contains("id=\"witnesses-none\"", html, StringComparison.Ordinal);
        Assert.Contains("Audit:Witnesses:Files", html, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Requirement", "OPR-7")]
    [InlineData("operator")]
    [InlineData("hdab")]
    [InlineData("admin")]
    [InlineData("researcher")]
    public async Task Only_auditors_see_the_witnesses(string role)
    {
        var file = _elsewhere.File("witness.jsonl");
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Audit:Witnesses:Files:0"] = file });
        using var other = await server.ClientAsAsync("someone-" + role, role);

        using var refused = await other.GetAsync("/api/v1/audit/witnesses", TestContext.Current.CancellationToken);
        using var anonymous = await server.Client.GetAsync(new Uri("/api/v1/audit/witnesses", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.DoesNotContain(file, body, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task A_disabled_auditor_gets_nothing()
    {
        await using var server = await SpeTestServer.StartAsync();
        await server.EnsureAccountAsync("witness-leaver", "auditor");
        using var leaver = await server.ClientForAccountAsync("witness-leaver");
        using (var before = await leaver.GetAsync("/api/v1/audit/witnesses", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var admin = await server.ClientForAccountAsync("admin");
        using (var disabled = await admin.PostAsync("/api/v1/admin/users/witness-leaver/disable", null, TestContext.Current.CancellationToken))
        {
            Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        using var after = await leaver.GetAsync("/api/v1/audit/witnesses", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (_witness is not null)
        {
            await _witness.DisposeAsync();
        }

        _elsewhere.Dispose();
    }

    private static async Task SignAsync(SpeTestServer server)
    {
        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync(TestContext.Current.CancellationToken);
        await server.Services.GetRequiredService<AuditWitnessPublisher>().DrainAsync();
    }

    /// <summary>An HTTPS witness on loopback with a certificate of its own, pinned by the server.</summary>
    private async Task<(string Url, string Pin)> StartHttpsWitnessAsync()
    {
        var certificate = TlsCertificates.LoadOrCreateDev(DataDirectory.Open(_elsewhere.File("tls")), TimeProvider.System);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        _witness = builder.Build();
        _witness.MapPost("/witness", () => Results.NoContent());
        await _witness.StartAsync(TestContext.Current.CancellationToken);
        return (_witness.Urls.First() + "/witness", TlsCertificates.Fingerprint(certificate));
    }
}
