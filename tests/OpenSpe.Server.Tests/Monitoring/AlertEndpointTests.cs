using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// <c>/api/v1/alerts</c> through the real HTTP pipeline on SQLite and PostgreSQL (EHDSR-9, TIR-13, OPR-18): operators list,
/// acknowledge (once) and open an incident from an alert; auditors read; every other role, an operator without a second
/// factor and a caller without a token are refused with nothing changed.
/// </summary>
public abstract class AlertEndpointTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = PermitFixture.Start;
    private PermitFixture _f = null!;
    private string _projectId = "";
    private string _permitId = "";
    private HttpClient _operator = null!;

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync()
    {
        // Note: no shipped rules, so that only the alerts a test stores are listed (a machine short of disk would add one).
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Alerts:Defaults"] = "false" }, Backend);
        (_permitId, _projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(90)));
        _operator = await _f.Server.ClientForAccountAsync("operator");
    }

    public async ValueTask DisposeAsync()
    {
        _operator.Dispose();
        await _f.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Operator_lists_alerts_and_acknowledges_one_with_a_note_once_and_it_is_audited()
    {
        var first = await SeedAsync("signin-failures-per-account", "researcher", null);
        var second = await SeedAsync("rate-limit-storm", "203.0.113.9", null);

        var all = await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        var ack = await _operator.PostAsJsonAsync($"/api/v1/alerts/{first}/acknowledge", new { note = "Called the researcher: a forgotten password." });
        var again = await _operator.PostAsJsonAsync($"/api/v1/alerts/{first}/acknowledge", new { note = "twice" });
        var open = await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts?state=open");

        Assert.Equal(2, all.GetArrayLength());
        Assert.All(all.EnumerateArray(), a => Assert.Equal("open", a.GetProperty("state").GetString()));
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        var acked = await ack.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("acknowledged", acked.GetProperty("state").GetString());
        Assert.Equal("operator", acked.GetProperty("acknowledgedBy").GetString());
        Assert.Equal(ErrorCodes.AlertAlreadyAcknowledged, (await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(second, Assert.Single(open.EnumerateArray()).GetProperty("id").GetString());
        var records = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "alert.acknowledged"));
        Assert.Equal(first, Assert.Single(records).ResourceId);
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Operator_opens_an_incident_from_an_alert_detected_when_it_fired_naming_its_project_linked_both_ways()
    {
        var id = await SeedAsync("clipboard-drops", "researcher", _projectId, Start.AddHours(-3));

        var response = await _operator.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "high" });
        var again = await _operator.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "high" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var alert = await response.Content.ReadFromJsonAsync<JsonElement>();
        var incidentId = alert.GetProperty("incidentId").GetString()!;
        Assert.Equal($"/api/v1/incidents/{incidentId}", response.Headers.Location!.OriginalString);
        var incident = await _operator.GetFromJsonAsync<JsonElement>($"/api/v1/incidents/{incidentId}");
        Assert.Equal("high", incident.GetProperty("severity").GetString());
        Assert.Equal(Start.AddHours(-3), incident.GetProperty("detectedAt").GetDateTimeOffset());
        var affected = Assert.Single(incident.GetProperty("affected").EnumerateArray());
        Assert.Equal((_projectId, _permitId), (affected.GetProperty("projectId").GetString(), affected.GetProperty("permitId").GetString()));
        var link = Assert.Single(incident.GetProperty("events").EnumerateArray());
        Assert.Equal(("alert", id), (link.GetProperty("kind").GetString(), link.GetProperty("note").GetString()));
        Assert.Equal(ErrorCodes.AlertIncidentExists, (await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Single(await _operator.GetFromJsonAsync<JsonElement[]>("/api/v1/incidents") ?? []);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Auditor_reads_alerts_but_can_neither_acknowledge_nor_open_an_incident()
    {
        var id = await SeedAsync("signin-failures-per-account", "researcher", _projectId);
        using var auditor = await _f.Server.ClientForAccountAsync("auditor");

        var list = await auditor.GetAsync("/api/v1/alerts");
        var ack = await auditor.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "mine now" });
        var incident = await auditor.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "low" });

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        await ProblemAssert.IsProblemAsync(ack, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(incident, HttpStatusCode.Forbidden);
        await AssertUnchangedAsync(id);
    }

    [Theory]
    [Trait("Requirement", "EHDSR-9")]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("hdab")]
    [InlineData("admin")]
    public async Task Other_roles_get_nothing_and_change_nothing(string account)
    {
        var id = await SeedAsync("signin-failures-per-account", "researcher", _projectId);
        using var client = await _f.Server.ClientForAccountAsync(account);

        await AssertAllRefusedAsync(client, id, HttpStatusCode.Forbidden);
        await AssertUnchangedAsync(id);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task No_token_is_401_and_an_operator_without_a_second_factor_is_403()
    {
        var id = await SeedAsync("signin-failures-per-account", "researcher", null);
        using var noMfa = _f.Server.ClientWithToken(await _f.Server.PasswordOnlyTokenAsync("ops-no-mfa", "operator"));

        await AssertAllRefusedAsync(_f.Server.Client, id, HttpStatusCode.Unauthorized);
        await AssertAllRefusedAsync(noMfa, id, HttpStatusCode.Forbidden);
        await AssertUnchangedAsync(id);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Unknown_ids_are_404_and_malformed_input_is_400_with_nothing_changed()
    {
        var id = await SeedAsync("signin-failures-per-account", "researcher", null);

        var missingAck = await _operator.PostAsJsonAsync("/api/v1/alerts/alt-0000000000000000/acknowledge", new { note = "n-1" });
        var missingIncident = await _operator.PostAsJsonAsync("/api/v1/alerts/alt-0000000000000000/incident", new { severity = "low" });
        var shortNote = await _operator.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "" });
        var noNote = await _operator.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { });
        var notJson = await _operator.PostAsync($"/api/v1/alerts/{id}/acknowledge", new StringContent("{not json", Encoding.UTF8, "application/json"));
        var badSeverity = await _operator.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "apocalyptic" });
        var badState = await _operator.GetAsync("/api/v1/alerts?state=closed");

        await ProblemAssert.IsProblemAsync(missingAck, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(missingIncident, HttpStatusCode.NotFound);
        foreach (var invalid in new[] { shortNote, noNote, notJson, badSeverity, badState })
        {
            await ProblemAssert.IsProblemAsync(invalid, HttpStatusCode.BadRequest);
        }

        await AssertUnchangedAsync(id);
    }

    private static async Task AssertAllRefusedAsync(HttpClient client, string id, HttpStatusCode status)
    {
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/v1/alerts"), status);
        await ProblemAssert.IsProblemAsync(await client.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "not mine" }), status);
        await ProblemAssert.IsProblemAsync(await client.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "low" }), status);
    }

    private async Task AssertUnchangedAsync(string id)
    {
        var alert = Assert.Single((await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).EnumerateArray());
        Assert.Equal(id, alert.GetProperty("id").GetString());
        Assert.Equal("open", alert.GetProperty("state").GetString());
        Assert.False(alert.TryGetProperty("incidentId", out var incident) && incident.ValueKind != JsonValueKind.Null, "an incident was opened");
        Assert.Equal(0, (await _operator.GetFromJsonAsync<JsonElement>("/api/v1/incidents")).GetArrayLength());
    }

    /// <summary>Stores an alert as the dispatcher does after a rule fired (Arrange: the firing itself is covered by the rule and check tests).</summary>
    private async Task<string> SeedAsync(string rule, string key, string? projectId, DateTimeOffset? firedAt = null)
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var alert = new AlertEntity
        {
            Id = "alt-" + Guid.NewGuid().ToString("N")[..16],
            Rule = rule,
            GroupBy = projectId is null ? "account" : "project",
            Key = key,
            Value = 5,
            Threshold = 5,
            WindowSeconds = 900,
            FiredAt = firedAt ?? Start,
            Description = "seeded",
            ProjectId = projectId,
            Revision = Guid.NewGuid(),
        };
        database.Add(alert);
        await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        return alert.Id;
    }
}

public sealed class SqliteAlertEndpointTests : AlertEndpointTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresAlertEndpointTests : AlertEndpointTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
