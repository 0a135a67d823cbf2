using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Operations.Incidents;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// <c>/api/v1/alerts</c> through the real HTTP pipeline on SQLite and PostgreSQL (EHDSR-9, TIR-13, OPR-18): operators list
/// (a page at a time), acknowledge (once) and open an incident from an alert; auditors read; every other role, an operator
/// without a second factor and a caller without a token are refused with nothing changed.
/// </summary>
/// <remarks>
/// One server per database for the whole class (<see cref="AlertServer"/>): each test starts from an empty alerts and
/// incidents table, and reads the audit log only for the records of its own alerts, so the tests do not see each other.
/// </remarks>
public abstract class AlertEndpointTests(AlertServer shared) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = PermitFixture.Start;
    private PermitFixture _f = null!;
    private string _projectId = "";
    private string _permitId = "";
    private HttpClient _operator = null!;

    public async ValueTask InitializeAsync()
    {
        (_f, _permitId, _projectId, _operator) = await shared.StartAsync();
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var cancellationToken = TestContext.Current.CancellationToken;
        await database.Set<IncidentEventEntity>().ExecuteDeleteAsync(cancellationToken);
        await database.Set<IncidentEntity>().ExecuteDeleteAsync(cancellationToken);
        await database.Set<AlertEntity>().ExecuteDeleteAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Operator_lists_alerts_and_acknowledges_one_with_a_note_once_and_it_is_audited()
    {
        var first = await SeedAsync("signin-failures-per-account", "researcher", null);
        var second = await SeedAsync("rate-limit-storm", "203.0.113.9", null);

        var all = (await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetProperty("items");
        var ack = await _operator.PostAsJsonAsync($"/api/v1/alerts/{first}/acknowledge", new { note = "Called the researcher: a forgotten password." });
        var again = await _operator.PostAsJsonAsync($"/api/v1/alerts/{first}/acknowledge", new { note = "twice" });
        var open = (await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts?state=open")).GetProperty("items");

        Assert.Equal(2, all.GetArrayLength());
        Assert.All(all.EnumerateArray(), a => Assert.Equal("open", a.GetProperty("state").GetString()));
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        var acked = await ack.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("acknowledged", acked.GetProperty("state").GetString());
        Assert.Equal("operator", acked.GetProperty("acknowledgedBy").GetString());
        Assert.Equal(ErrorCodes.AlertAlreadyAcknowledged, (await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(second, Assert.Single(open.EnumerateArray()).GetProperty("id").GetString());
        var records = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "alert.acknowledged"));
        Assert.Single(records, r => r.ResourceId == first);
        Assert.DoesNotContain(records, r => r.ResourceId == second);
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
    public async Task An_operator_cannot_acknowledge_an_alert_about_their_own_account_and_another_operator_can()
    {
        var id = await SeedAsync("signin-failures-per-account", "OPERATOR", null);
        await _f.Server.EnsureAccountAsync("operator2", "operator");
        using var second = await _f.Server.ClientForAccountAsync("operator2");

        var own = await _operator.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "that was me" });
        var unchanged = (await _operator.GetFromJsonAsync<JsonElement>($"/api/v1/alerts?state=open")).GetProperty("items");
        var other = await second.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "Checked with the operator: a mistyped password." });

        Assert.Equal(ErrorCodes.AlertAboutSelf, (await ProblemAssert.IsProblemAsync(own, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        Assert.Contains(unchanged.EnumerateArray(), a => a.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Auditor_reads_alerts_but_can_neither_acknowledge_nor_open_an_incident()
    {
        var id = await SeedAsync("signin-failures-per-account", "researcher", _projectId);
        using var auditor = await _f.Server.ClientForAccountAsync("auditor");

        var list = await auditor.GetAsync("/api/v1/alerts");
        var rules = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/alerts/rules");
        var ack = await auditor.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "mine now" });
        var incident = await auditor.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "low" });

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        // The rules in force: none here, because this server switches the shipped defaults off (Alerts:Defaults=false); the
        // compliance report's test reads them on a server with the defaults.
        Assert.Equal(JsonValueKind.Array, rules.ValueKind);
        Assert.Empty(rules.EnumerateArray());
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

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task The_list_pages_newest_first_with_ties_by_id_and_each_alert_once()
    {
        var ids = new List<(DateTimeOffset At, string Id)>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((Start.AddMinutes(-i), await SeedAsync("rate-limit-storm", $"203.0.113.{i}", null, Start.AddMinutes(-i))));
        }

        // Note: two alerts fired in the same microsecond: the id decides, so a page border between them loses neither.
        ids.Add((Start.AddMinutes(-2), await SeedAsync("rate-limit-storm", "198.51.100.1", null, Start.AddMinutes(-2))));
        var expected = ids.OrderByDescending(x => x.At).ThenByDescending(x => x.Id, StringComparer.Ordinal).Select(x => x.Id).ToList();

        var seen = new List<string>();
        string? before = null;
        var pages = 0;
        do
        {
            var page = await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts?limit=2" + (before is null ? "" : "&before=" + before));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()!));
            before = page.TryGetProperty("nextBefore", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            pages++;
        }
        while (before is not null && pages < 10);

        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task The_list_gives_100_by_default_up_to_500_on_request_and_pages_within_a_state()
    {
        await using (var scope = _f.Server.Services.CreateAsyncScope())
        {
            var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
            for (var i = 0; i < 101; i++)
            {
                database.Add(Alert("rate-limit-storm", $"192.0.2.{i}", null, Start.AddSeconds(-i), i % 2 == 0 ? AlertStates.Open : AlertStates.Acknowledged));
            }

            await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var first = await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        var all = await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts?limit=500");
        var open = await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts?state=open&limit=50");
        var rest = await _operator.GetFromJsonAsync<JsonElement>($"/api/v1/alerts?state=open&limit=50&before={open.GetProperty("nextBefore").GetString()}");

        Assert.Equal(100, first.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.String, first.GetProperty("nextBefore").ValueKind);
        Assert.Equal(101, all.GetProperty("items").GetArrayLength());
        Assert.False(all.TryGetProperty("nextBefore", out var none) && none.ValueKind != JsonValueKind.Null);
        Assert.Equal(50, open.GetProperty("items").GetArrayLength());
        Assert.Equal(1, rest.GetProperty("items").GetArrayLength());
        Assert.All(open.GetProperty("items").EnumerateArray().Concat(rest.GetProperty("items").EnumerateArray()), a => Assert.Equal("open", a.GetProperty("state").GetString()));
    }

    [Theory]
    [Trait("Requirement", "EHDSR-9")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=1e2", "limit")]
    [InlineData("before=x", "before")]
    [InlineData("before=alt-ZZZZ", "before")]
    [InlineData("before=alt-0123%27%20or%201%3D1", "before")]
    [InlineData("before=alt-0000000000000000", "before")]
    public async Task A_bad_limit_or_cursor_is_a_400_naming_it_with_nothing_changed(string query, string field)
    {
        var id = await SeedAsync("signin-failures-per-account", "researcher", null);

        var response = await _operator.GetAsync("/api/v1/alerts?" + query);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        await AssertUnchangedAsync(id);
    }

    private static async Task AssertAllRefusedAsync(HttpClient client, string id, HttpStatusCode status)
    {
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/v1/alerts"), status);
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/v1/alerts/rules"), status);
        await ProblemAssert.IsProblemAsync(await client.PostAsJsonAsync($"/api/v1/alerts/{id}/acknowledge", new { note = "not mine" }), status);
        await ProblemAssert.IsProblemAsync(await client.PostAsJsonAsync($"/api/v1/alerts/{id}/incident", new { severity = "low" }), status);
    }

    private async Task AssertUnchangedAsync(string id)
    {
        var alert = Assert.Single((await _operator.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetProperty("items").EnumerateArray());
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
        var alert = Alert(rule, key, projectId, firedAt ?? Start, AlertStates.Open);
        database.Add(alert);
        await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        return alert.Id;
    }

    private static AlertEntity Alert(string rule, string key, string? projectId, DateTimeOffset firedAt, string state) => new()
    {
        Id = "alt-" + Guid.NewGuid().ToString("N")[..16],
        Rule = rule,
        GroupBy = projectId is null ? "account" : "project",
        Key = key,
        Value = 5,
        Threshold = 5,
        WindowSeconds = 900,
        FiredAt = firedAt,
        Description = "seeded",
        ProjectId = projectId,
        State = state,
        Revision = Guid.NewGuid(),
    };
}

/// <summary>
/// One server per database for <see cref="AlertEndpointTests"/>: started by the first test (so that a missing PostgreSQL
/// skips or fails that test as everywhere else), with a permit issued and an operator signed in.
/// </summary>
public abstract class AlertServer : IAsyncDisposable
{
    private readonly SharedStart<Started> _server;

    protected AlertServer() => _server = new(StartServerAsync);

    protected abstract TestBackend Backend { get; }

    public async Task<(PermitFixture F, string PermitId, string ProjectId, HttpClient Operator)> StartAsync()
    {
        var started = await _server.GetAsync();
        return (started.F, started.PermitId, started.ProjectId, started.Operator);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private async Task<Started> StartServerAsync()
    {
        // Note: no shipped rules, so that only the alerts a test stores are listed (a machine short of disk would add one).
        var f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Alerts:Defaults"] = "false" }, Backend);
        var (permitId, projectId) = await f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(90)));
        return new Started(f, permitId, projectId, await f.Server.ClientForAccountAsync("operator"));
    }

    private sealed record Started(PermitFixture F, string PermitId, string ProjectId, HttpClient Operator) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Operator.Dispose();
            await F.DisposeAsync();
        }
    }
}

public sealed class SqliteAlertServer : AlertServer
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresAlertServer : AlertServer
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}

public sealed class SqliteAlertEndpointTests(SqliteAlertServer shared) : AlertEndpointTests(shared), IClassFixture<SqliteAlertServer>;

public sealed class PostgresAlertEndpointTests(PostgresAlertServer shared) : AlertEndpointTests(shared), IClassFixture<PostgresAlertServer>;
