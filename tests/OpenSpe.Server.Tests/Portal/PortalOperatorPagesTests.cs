using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The operator's pages through the real HTTP pipeline: alerts (acknowledge, open an incident), incidents with their HDAB
/// deadlines and overdue state, backups and drills, components. Each shows what the API gives that person and refuses the
/// others with the API's own answer; a refused or malformed change leaves the alert as it was (EHDSR-9, OPR-18, OPR-19).
/// </summary>
public sealed class PortalOperatorPagesTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _project = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        (_, _project) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-OPS", "researcher"));
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Theory]
    [InlineData("operator", "/alerts", "No alert has fired.")]
    [InlineData("operator", "/incidents", "No incident is recorded that you may read.")]
    [InlineData("operator", "/backups", "No restore drill is recorded")]
    [InlineData("operator", "/components", "NuGet packages")]
    [InlineData("auditor", "/alerts", "No alert has fired.")]
    [InlineData("auditor", "/incidents", "No incident is recorded that you may read.")]
    [InlineData("auditor", "/backups", "Scheduled backups")]
    [InlineData("auditor", "/components", "OpenSPE build")]
    [InlineData("hdab", "/incidents", "No incident is recorded that you may read.")]
    [InlineData("hdab", "/components", "OpenSPE build")]
    [Trait("Requirement", "TIR-22")]
    public async Task Operations_pages_answer_their_roles_under_the_strict_policy(string username, string path, string expected)
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync(username);

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains(expected, html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("researcher", "/alerts")]
    [InlineData("holder", "/alerts")]
    [InlineData("checker", "/alerts")]
    [InlineData("hdab", "/alerts")]
    [InlineData("researcher", "/incidents")]
    [InlineData("checker", "/incidents")]
    [InlineData("holder", "/backups")]
    [InlineData("hdab", "/backups")]
    [InlineData("researcher", "/components")]
    [InlineData("admin", "/components")]
    [Trait("Requirement", "TIR-22")]
    public async Task Operations_pages_refuse_every_other_role_with_the_apis_403(string username, string path)
    {
        await SeedAlertAsync(_project);
        using var portal = new PortalBrowser(_f.Server);
        using var home = await portal.SignInAsync(username);
        var homeHtml = await home.Content.ReadAsStringAsync();

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Not allowed", html, StringComparison.Ordinal);
        Assert.DoesNotContain("seeded alert", html, StringComparison.Ordinal);
        // Note: the navigation does not offer what the API would refuse.
        Assert.DoesNotContain($"href=\"{path}\"", homeHtml, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Operator_acknowledges_an_alert_from_the_page_with_a_note_and_the_page_shows_who()
    {
        var id = await SeedAlertAsync(_project);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/alerts?state=open");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("seeded alert", html, StringComparison.Ordinal);

        using var acknowledged = await portal.SubmitAsync(html, "/alerts?handler=Acknowledge", ("id", id), ("note", "checked the source address; a test run"));
        using var after = await portal.GetAsync("/alerts");
        var afterHtml = await after.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Redirect, acknowledged.StatusCode);
        Assert.Contains("Acknowledged by operator", afterHtml, StringComparison.Ordinal);
        Assert.Contains("checked the source address; a test run", afterHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("Acknowledge the alert", afterHtml, StringComparison.Ordinal);
        var stored = await AlertAsync(id);
        Assert.Equal(("acknowledged", "operator"), (stored.State, stored.AcknowledgedBy));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Auditor_reads_alerts_without_forms_and_a_forged_acknowledgement_is_refused_with_403_changing_nothing()
    {
        var id = await SeedAlertAsync(_project);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("auditor");
        using var page = await portal.GetAsync("/alerts");
        var html = await page.Content.ReadAsStringAsync();

        using var forged = await portal.SubmitAsync(html, "/alerts?handler=Acknowledge", ("id", id), ("note", "an auditor must not acknowledge"));
        using var incident = await portal.SubmitAsync(html, "/alerts?handler=Incident", ("id", id), ("severity", "high"));

        Assert.Contains("seeded alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Acknowledge the alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Open an incident from this alert", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, incident.StatusCode);
        var stored = await AlertAsync(id);
        Assert.Equal(("open", null), (stored.State, stored.IncidentId));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Malformed_or_unknown_acknowledgements_show_the_apis_sentence_and_change_nothing()
    {
        var id = await SeedAlertAsync(_project);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/alerts");
        var html = await page.Content.ReadAsStringAsync();

        using var shortNote = await portal.SubmitAsync(html, "/alerts?handler=Acknowledge", ("id", id), ("note", "x"));
        using var unknown = await portal.SubmitAsync(html, "/alerts?handler=Acknowledge", ("id", "alt-doesnotexist"), ("note", "a real note"));
        using var noId = await portal.SubmitAsync(html, "/alerts?handler=Acknowledge", ("note", "a real note"));
        using var badSeverity = await portal.SubmitAsync(html, "/alerts?handler=Incident", ("id", id), ("severity", "apocalyptic"));
        using var noToken = await portal.Browser.PostFormAsync("/alerts?handler=Acknowledge", [new("id", id), new("note", "no anti-forgery token")]);

        Assert.Equal(HttpStatusCode.BadRequest, shortNote.StatusCode);
        Assert.Contains("role=\"alert\"", await shortNote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("There is no such alert.", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noId.StatusCode);
        Assert.Contains("Choose an alert from the list", await noId.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badSeverity.StatusCode);
        Assert.Contains("Must be low, medium, high or critical.", await badSeverity.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        var stored = await AlertAsync(id);
        Assert.Equal(("open", null, null), (stored.State, stored.AcknowledgedBy, stored.IncidentId));
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    [Trait("Requirement", "OPR-19")]
    public async Task Operator_opens_an_incident_from_an_old_alert_and_its_page_shows_the_deadlines_overdue_to_the_operator_and_the_hdab_only()
    {
        // The alert fired two days ago: the HDAB clock runs from then, so the 24-hour early warning is already overdue.
        var id = await SeedAlertAsync(_project, PermitFixture.Start.AddDays(-2));
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/alerts");

        using var opened = await portal.SubmitAsync(await page.Content.ReadAsStringAsync(), "/alerts?handler=Incident", ("id", id), ("severity", "high"), ("title", "Sign-in storm"));
        var incidentPath = portal.Browser.Location(opened).AbsolutePath;
        using var incident = await portal.GetAsync(incidentPath);
        var html = await incident.Content.ReadAsStringAsync();
        using var list = await portal.GetAsync("/incidents");
        var listHtml = await list.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
        Assert.StartsWith("/incidents/inc-", incidentPath, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, incident.StatusCode);
        Assert.Contains("Sign-in storm", html, StringComparison.Ordinal);
        Assert.Contains("Early warning (24 hours)", html, StringComparison.Ordinal);
        Assert.Contains("Notification (72 hours)", html, StringComparison.Ordinal);
        Assert.Contains("Final report (one month)", html, StringComparison.Ordinal);
        Assert.Contains("Overdue: not sent", html, StringComparison.Ordinal);
        Assert.Contains("A notification to the HDAB is overdue", html, StringComparison.Ordinal);
        Assert.Contains(_project, html, StringComparison.Ordinal);
        Assert.Contains("UTC+00:00", html, StringComparison.Ordinal);
        Assert.Contains("Overdue", listHtml, StringComparison.Ordinal);
        Assert.Contains("Sign-in storm", listHtml, StringComparison.Ordinal);

        // The HDAB officer of the affected permit reads it; a researcher does not (the API's 403), nor sees it listed.
        using var hdab = new PortalBrowser(_f.Server);
        using var __ = await hdab.SignInAsync("hdab");
        using var hdabPage = await hdab.GetAsync(incidentPath);
        using var researcher = new PortalBrowser(_f.Server);
        using var ___ = await researcher.SignInAsync("researcher");
        using var researcherPage = await researcher.GetAsync(incidentPath);

        Assert.Equal(HttpStatusCode.OK, hdabPage.StatusCode);
        Assert.Contains("Sign-in storm", await hdabPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, researcherPage.StatusCode);
        Assert.DoesNotContain("Sign-in storm", await researcherPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    public async Task Hdab_officer_reads_an_incident_of_their_permit_in_the_list_and_the_projects_researcher_gets_403()
    {
        // Note: HDAB officers oversee every permit of this SPE (the permits API's rule), so they read every incident; the
        // researcher named in the affected permit is not an incident reader at all.
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");
        using var created = await operatorClient.PostAsJsonAsync("/api/v1/incidents",
            new { title = "Host patching missed", description = "Found in the monthly check.", severity = "low", projectIds = new[] { _project } }, TestContext.Current.CancellationToken);
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        using var hdab = new PortalBrowser(_f.Server);
        using var _ = await hdab.SignInAsync("hdab");
        using var researcher = new PortalBrowser(_f.Server);
        using var __ = await researcher.SignInAsync("researcher");

        using var list = await hdab.GetAsync("/incidents");
        using var page = await hdab.GetAsync("/incidents/" + id);
        using var refused = await researcher.GetAsync("/incidents");
        var pageHtml = await page.Content.ReadAsStringAsync();

        Assert.Contains("Host patching missed", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(_project, pageHtml, StringComparison.Ordinal);
        Assert.Contains("No notification is recorded yet.", pageHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("Host patching missed", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task Backups_page_shows_a_recorded_restore_drill()
    {
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");
        using var recorded = await operatorClient.PostAsJsonAsync("/api/v1/operations/backups/drills",
            new { backup = "spe-backup-20261128T120000Z", passed = true, backupCreatedAt = PermitFixture.Start.AddDays(-1), auditRecords = 42, readyStatus = 200 },
            TestContext.Current.CancellationToken);
        recorded.EnsureSuccessStatusCode();
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("auditor");

        using var page = await portal.GetAsync("/backups");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Restore drill", html, StringComparison.Ordinal);
        Assert.Contains("spe-backup-20261128T120000Z", html, StringComparison.Ordinal);
        Assert.DoesNotContain("No restore drill is recorded", html, StringComparison.Ordinal);
    }

    /// <summary>Stores an alert as the dispatcher does after a rule fired (the firing itself is covered by the alert tests).</summary>
    private async Task<string> SeedAlertAsync(string? projectId, DateTimeOffset? firedAt = null)
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var alert = new AlertEntity
        {
            Id = "alt-" + Guid.NewGuid().ToString("N")[..16],
            Rule = "failed-sign-ins",
            GroupBy = "account",
            Key = "researcher",
            Value = 12,
            Threshold = 10,
            WindowSeconds = 900,
            FiredAt = firedAt ?? PermitFixture.Start.AddMinutes(-5),
            Description = "seeded alert: 12 failed sign-ins in 15 minutes",
            ProjectId = projectId,
            Revision = Guid.NewGuid(),
        };
        database.Add(alert);
        await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        return alert.Id;
    }

    private async Task<AlertEntity> AlertAsync(string id)
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Set<AlertEntity>().AsNoTracking().SingleAsync(a => a.Id == id, TestContext.Current.CancellationToken);
    }
}
