using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// A person whose account is disabled after they signed in (OPR-1, OPR-23, EHDSR-9, OPR-27, OPR-4) is refused by the operations
/// endpoints with the token they still hold: training, alerts, backup evidence, the component inventory and the
/// certificates; 401 each, and nothing they sent is recorded.
/// </summary>
public sealed class RevokedOperationsAccessTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly SpeTestServer _server = shared.Server;

    [Fact]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "OPR-23")]
    public async Task A_revoked_hdab_officer_neither_reads_nor_records_training()
    {
        await _server.EnsureAccountAsync("revoked-hdab", "hdab");
        await _server.EnsureAccountAsync("revoked-hdab-trainee", "researcher");
        using var officer = await _server.ClientForAccountAsync("revoked-hdab");
        Assert.Equal(HttpStatusCode.OK, (await officer.GetAsync("/api/v1/training")).StatusCode);

        await DisableAsync("revoked-hdab");
        var list = await officer.GetAsync("/api/v1/training");
        var record = await officer.PostAsJsonAsync("/api/v1/training", new { account = "revoked-hdab-trainee", role = "researcher", course = "Safe data use", completed = "2026-01-10" });

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, record.StatusCode);
        using var auditor = await _server.ClientForAccountAsync("auditor");
        Assert.Equal(0, (await auditor.GetFromJsonAsync<JsonElement>("/api/v1/training?account=revoked-hdab-trainee")).GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "OPR-27")]
    [Trait("Requirement", "OPR-4")]
    public async Task A_revoked_operator_gets_no_alerts_backup_evidence_components_or_certificates_and_records_no_drill()
    {
        await _server.EnsureAccountAsync("revoked-operator", "operator");
        using var op = await _server.ClientForAccountAsync("revoked-operator");
        string[] reads = ["/api/v1/alerts", "/api/v1/operations/backups", "/api/v1/operations/components", "/api/v1/operations/certificates"];
        foreach (var route in reads)
        {
            Assert.Equal(HttpStatusCode.OK, (await op.GetAsync(route)).StatusCode);
        }

        await DisableAsync("revoked-operator");

        foreach (var route in reads)
        {
            await ProblemAssert.IsProblemAsync(await op.GetAsync(route), HttpStatusCode.Unauthorized);
        }

        var drill = await op.PostAsJsonAsync("/api/v1/operations/backups/drills",
            new { backup = "spe-backup-20261129T120000Z", backupCreatedAt = "2026-11-29T12:00:00Z", passed = true, auditRecords = 1, readyStatus = 200 });
        var ack = await op.PostAsJsonAsync("/api/v1/alerts/alt-0000000000000000/acknowledge", new { note = "still here?" });
        await ProblemAssert.IsProblemAsync(drill, HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(ack, HttpStatusCode.Unauthorized);
        using var auditor = await _server.ClientForAccountAsync("auditor");
        var evidence = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/operations/backups");
        Assert.DoesNotContain(evidence.GetProperty("events").EnumerateArray(), e => e.GetProperty("backup").GetString() == "spe-backup-20261129T120000Z");
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "FCR-4")]
    public async Task A_revoked_hdab_officer_no_longer_reads_the_component_inventory()
    {
        await _server.EnsureAccountAsync("revoked-hdab-components", "hdab");
        using var officer = await _server.ClientForAccountAsync("revoked-hdab-components");
        Assert.Equal(HttpStatusCode.OK, (await officer.GetAsync("/api/v1/operations/components")).StatusCode);

        await DisableAsync("revoked-hdab-components");
        var response = await officer.GetAsync("/api/v1/operations/components");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.DoesNotContain("sha256", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task DisableAsync(string username)
    {
        using var admin = await _server.ClientForAccountAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/admin/users/{username}/disable", null)).StatusCode);
    }
}
