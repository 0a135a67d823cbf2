using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// What an operator records on incidents in the portal, through the real HTTP pipeline: opening one, a notification to the
/// HDAB (its content's SHA-256 recorded), an update, the one-step halt of the affected projects and the closing. Other roles
/// get no form and a forged one is the API's 403; bad input is shown at its field; nothing changes on any refusal
/// (OPR-18, OPR-19, OPR-20).
/// </summary>
public sealed class PortalIncidentFormsTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _project = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        (_, _project) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-INC", "researcher"));
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-18")]
    [Trait("Requirement", "OPR-19")]
    public async Task Operator_opens_an_incident_from_the_form_with_its_detection_time_and_projects_and_the_clock_starts_there()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var list = await portal.GetAsync("/incidents");
        var detected = PermitFixture.Start.AddHours(-30).ToOffset(TimeSpan.FromHours(1));

        using var opened = await portal.SubmitAsync(await list.Content.ReadAsStringAsync(), "/incidents?handler=Open",
            ("title", "Laptop with a VPN profile stolen"), ("description", "Reported by phone; the profile was revoked at once."), ("severity", "high"),
            ("detectedAt", detected.ToString("yyyy-MM-dd'T'HH:mmzzz", CultureInfo.InvariantCulture)), ("projects", " " + _project + " ,"));

        Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
        var incident = await IncidentAsync(portal.Browser.Location(opened).AbsolutePath["/incidents/".Length..]);
        Assert.Equal(("Laptop with a VPN profile stolen", "high"), (incident.GetProperty("title").GetString(), incident.GetProperty("severity").GetString()));
        Assert.Equal(detected, incident.GetProperty("detectedAt").GetDateTimeOffset());
        Assert.Equal(_project, incident.GetProperty("affected")[0].GetProperty("projectId").GetString());
        // 30 hours after detection the 24-hour early warning is overdue: the clock ran from the time typed, not from now.
        Assert.True(incident.GetProperty("overdue").GetBoolean());
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    public async Task Opening_with_bad_input_shows_the_error_at_its_field_and_records_nothing()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var list = await portal.GetAsync("/incidents");
        var html = await list.Content.ReadAsStringAsync();

        using var shortTitle = await portal.SubmitAsync(html, "/incidents?handler=Open", ("title", "x"), ("description", "a description"), ("severity", "low"));
        using var noOffset = await portal.SubmitAsync(html, "/incidents?handler=Open", ("title", "A title"), ("description", "a description"), ("severity", "low"),
            ("detectedAt", "2026-12-01T09:30"));
        using var unknownProject = await portal.SubmitAsync(html, "/incidents?handler=Open", ("title", "A title"), ("description", "a description"), ("severity", "low"),
            ("projects", "prj-doesnotexist0000"));
        using var badSeverity = await portal.SubmitAsync(html, "/incidents?handler=Open", ("title", "A title"), ("description", "a description"), ("severity", "apocalyptic"));
        using var noToken = await portal.Browser.PostFormAsync("/incidents?handler=Open", [new("title", "A title"), new("description", "a description"), new("severity", "low")]);

        Assert.Equal(HttpStatusCode.BadRequest, shortTitle.StatusCode);
        var shortTitleHtml = await shortTitle.Content.ReadAsStringAsync();
        Assert.Contains("id=\"open-title-error\"", shortTitleHtml, StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"open-title-error\" aria-invalid=\"true\"", shortTitleHtml, StringComparison.Ordinal);
        Assert.Contains("a description", shortTitleHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noOffset.StatusCode);
        Assert.Contains("id=\"open-detectedat-error\" class=\"field-error\">Give the time with its offset", await noOffset.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknownProject.StatusCode);
        Assert.Contains("There is no project prj-doesnotexist0000.", await unknownProject.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badSeverity.StatusCode);
        Assert.Contains("Must be low, medium, high or critical.", await badSeverity.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Empty(await IncidentsAsync());
    }

    [Fact]
    [Trait("Requirement", "OPR-19")]
    public async Task Operator_records_a_notification_and_an_update_and_the_page_shows_the_content_hash_and_the_history()
    {
        var id = await OpenAsync([_project]);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/incidents/" + id);
        var html = await page.Content.ReadAsStringAsync();
        const string content = "Early warning: a laptop with a VPN profile was stolen; no data access seen.";
        var sentAt = PermitFixture.Start.AddMinutes(-10).ToOffset(TimeSpan.FromHours(2));

        using var notified = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Notify", ("stage", "early-warning"), ("recipient", "hdab-incidents@example.org"),
            ("content", content), ("sentAt", sentAt.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture)));
        using var updated = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Update", ("note", "Profile revoked; contained."), ("severity", "medium"),
            ("state", "contained"), ("unused", ""));
        using var after = await portal.GetAsync("/incidents/" + id);
        var afterHtml = await after.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Redirect, notified.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, updated.StatusCode);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content))), afterHtml, StringComparison.Ordinal);
        Assert.Contains("hdab-incidents@example.org", afterHtml, StringComparison.Ordinal);
        Assert.Contains("Profile revoked; contained. (severity medium, state contained)", afterHtml, StringComparison.Ordinal);
        var incident = await IncidentAsync(id);
        Assert.Equal(("medium", "contained"), (incident.GetProperty("severity").GetString(), incident.GetProperty("state").GetString()));
        var early = incident.GetProperty("deadlines").EnumerateArray().Single(d => d.GetProperty("stage").GetString() == "early-warning");
        Assert.Equal("sent", early.GetProperty("status").GetString());
        Assert.Equal(sentAt, early.GetProperty("sentAt").GetDateTimeOffset());
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task Operator_halts_the_affected_projects_in_one_step_from_the_incident()
    {
        var id = await OpenAsync([_project]);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/incidents/" + id);

        using var halted = await portal.SubmitAsync(await page.Content.ReadAsStringAsync(), $"/incidents/{id}?handler=Halt", ("reason", "stolen credentials"));
        var html = await halted.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, halted.StatusCode);
        Assert.Contains("Halted every affected project: halt-", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Locked, await _f.GetAsAsync("researcher", $"/api/v1/projects/{_project}"));
    }

    [Fact]
    [Trait("Requirement", "OPR-19")]
    public async Task Closing_is_refused_at_the_form_until_every_notification_is_recorded_then_the_forms_are_gone()
    {
        var id = await OpenAsync([]);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/incidents/" + id);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Halt the affected projects", html, StringComparison.Ordinal);

        using var early = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Close", ("summary", "Nothing was accessed."));
        var earlyHtml = await early.Content.ReadAsStringAsync();
        foreach (var stage in new[] { "early-warning", "detailed", "final" })
        {
            using var sent = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Notify", ("stage", stage), ("recipient", "hdab-incidents@example.org"), ("content", stage + " notification."));
            Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
        }

        using var closed = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Close", ("summary", "Nothing was accessed."));
        using var after = await portal.GetAsync("/incidents/" + id);
        var afterHtml = await after.Content.ReadAsStringAsync();
        using var late = await portal.SubmitAsync(afterHtml, $"/incidents/{id}?handler=Update", ("note", "one more thing"));

        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("Record the early-warning, detailed, final notification(s) to the HDAB before closing the incident", earlyHtml, StringComparison.Ordinal);
        Assert.Contains("Nothing was accessed.", earlyHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, closed.StatusCode);
        Assert.DoesNotContain("Record on this incident", afterHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("The incident is closed; nothing more is recorded on it.", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("closed", (await IncidentAsync(id)).GetProperty("state").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-19")]
    public async Task Bad_input_is_shown_at_its_field_and_an_unknown_incident_is_the_apis_404_changing_nothing()
    {
        var id = await OpenAsync([_project]);
        var before = await IncidentAsync(id);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");
        using var page = await portal.GetAsync("/incidents/" + id);
        var html = await page.Content.ReadAsStringAsync();

        using var shortNote = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Update", ("note", "x"));
        using var badState = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Update", ("note", "a real note"), ("state", "closed"));
        using var badStage = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Notify", ("stage", "eventually"), ("recipient", "hdab"), ("content", "text"));
        using var noOffset = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Notify", ("stage", "final"), ("recipient", "hdab"), ("content", "text"),
            ("sentAt", "2026-12-01 09:30"));
        using var noReason = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Halt", ("reason", ""));
        using var unknown = await portal.SubmitAsync(html, "/incidents/inc-doesnotexist0000?handler=Update", ("note", "a real note"));
        using var noToken = await portal.Browser.PostFormAsync($"/incidents/{id}?handler=Halt", [new("reason", "no anti-forgery token")]);

        Assert.Equal(HttpStatusCode.BadRequest, shortNote.StatusCode);
        Assert.Contains("id=\"update-note-error\"", await shortNote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Contains("Must be open or contained", await badState.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badStage.StatusCode);
        Assert.Contains("id=\"notify-stage-error\" class=\"field-error\">Must be early-warning, detailed or final.", await badStage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noOffset.StatusCode);
        var noOffsetHtml = await noOffset.Content.ReadAsStringAsync();
        Assert.Contains("id=\"notify-sentat-error\" class=\"field-error\">Give the time with its offset", noOffsetHtml, StringComparison.Ordinal);
        Assert.Contains(">text</textarea>", noOffsetHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("id=\"halt-reason-error\"", await noReason.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("There is no such incident.", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Equal(before.GetRawText(), (await IncidentAsync(id)).GetRawText());
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", $"/api/v1/projects/{_project}"));
    }

    [Theory]
    [InlineData("auditor")]
    [InlineData("hdab")]
    [Trait("Requirement", "OPR-18")]
    public async Task Readers_get_no_forms_and_a_forged_submission_is_the_apis_403_changing_nothing(string username)
    {
        var id = await OpenAsync([_project]);
        var before = await IncidentAsync(id);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync(username);
        using var list = await portal.GetAsync("/incidents");
        using var page = await portal.GetAsync("/incidents/" + id);
        var html = await page.Content.ReadAsStringAsync();

        using var opened = await portal.SubmitAsync(html, "/incidents?handler=Open", ("title", "A title"), ("description", "a description"), ("severity", "low"));
        using var notified = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Notify", ("stage", "final"), ("recipient", "hdab"), ("content", "forged"));
        using var updated = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Update", ("note", "forged note"), ("state", "contained"));
        using var halted = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Halt", ("reason", "forged halt"));
        using var closed = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Close", ("summary", "forged close"));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("Open the incident", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("Record on this incident", html, StringComparison.Ordinal);
        Assert.All([opened, notified, updated, halted, closed], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(before.GetRawText(), (await IncidentAsync(id)).GetRawText());
        Assert.Single(await IncidentsAsync());
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", $"/api/v1/projects/{_project}"));
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    public async Task A_disabled_operators_open_page_records_nothing()
    {
        var id = await OpenAsync([_project]);
        var before = await IncidentAsync(id);
        await _f.Server.EnsureAccountAsync("portal-incident-leaver", "operator");
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("portal-incident-leaver");
        using var page = await portal.GetAsync("/incidents/" + id);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Record on this incident", html, StringComparison.Ordinal);
        using var admin = await _f.Server.ClientForAccountAsync("admin");
        using var disabled = await admin.PostAsync("/api/v1/admin/users/portal-incident-leaver/disable", null);
        Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync());

        using var halted = await portal.SubmitAsync(html, $"/incidents/{id}?handler=Halt", ("reason", "a leaver's halt"));

        Assert.Equal(HttpStatusCode.Redirect, halted.StatusCode);
        Assert.Equal("/portal/signin", portal.Browser.Location(halted).AbsolutePath);
        Assert.Equal(before.GetRawText(), (await IncidentAsync(id)).GetRawText());
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", $"/api/v1/projects/{_project}"));
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Incident_pages_with_forms_send_the_strict_policy()
    {
        var id = await OpenAsync([_project]);
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("operator");

        using var page = await portal.GetAsync("/incidents/" + id);
        using var refused = await portal.SubmitAsync(await page.Content.ReadAsStringAsync(), $"/incidents/{id}?handler=Update", ("note", "x"));

        Assert.Equal(PortalHeaders.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, refused.Headers.GetValues("Content-Security-Policy").Single());
    }

    private async Task<string> OpenAsync(string[] projectIds)
    {
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");
        using var created = await operatorClient.PostAsJsonAsync("/api/v1/incidents",
            new { title = "Stolen laptop", description = "Reported by phone.", severity = "high", detectedAt = PermitFixture.Start.AddHours(-1), projectIds },
            TestContext.Current.CancellationToken);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> IncidentAsync(string id)
    {
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");
        return await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/incidents/" + id, TestContext.Current.CancellationToken);
    }

    private async Task<List<JsonElement>> IncidentsAsync()
    {
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");
        return (await operatorClient.GetFromJsonAsync<List<JsonElement>>("/api/v1/incidents", TestContext.Current.CancellationToken))!;
    }
}
