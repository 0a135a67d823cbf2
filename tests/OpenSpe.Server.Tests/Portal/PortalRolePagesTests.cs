using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The pages of the HDAB officer, the operator, the output checker and the auditor through the real HTTP pipeline: each shows
/// what the API gives that role and refuses the others with the API's own answer (TIR-22, EHDSR-1, OPR-20, TIR-12).
/// </summary>
public sealed class PortalRolePagesTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _project = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        (_, _project) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-ROLES", "researcher"));
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Theory]
    [InlineData("admin", "/permits")]
    [InlineData("researcher", "/audit")]
    [InlineData("researcher", "/review")]
    [InlineData("researcher", "/halts")]
    [InlineData("checker", "/permits")]
    [InlineData("auditor", "/review")]
    [InlineData("hdab", "/audit")]
    [InlineData("researcher", "/exports")]
    [InlineData("holder", "/exports")]
    [InlineData("operator", "/exports")]
    [InlineData("admin", "/exports")]
    [InlineData("researcher", "/privacy")]
    [InlineData("operator", "/privacy")]
    [InlineData("auditor", "/privacy")]
    [InlineData("checker", "/privacy")]
    [Trait("Requirement", "TIR-22")]
    public async Task A_page_of_another_role_is_refused_with_the_apis_403(string username, string path)
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync(username);

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("role=\"alert\"", html, StringComparison.Ordinal);
        Assert.Contains("Not allowed", html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("hdab", "/permits", "HDAB-PORTAL-ROLES")]
    [InlineData("hdab", "/halts", "No halt is in force.")]
    [InlineData("operator", "/halts", "No halt is in force.")]
    [InlineData("checker", "/review", "No export request is waiting for you.")]
    [InlineData("auditor", "/audit", "Verify the audit chain now")]
    [InlineData("hdab", "/exports", "No export has been requested yet.")]
    [InlineData("checker", "/exports", "No export has been requested yet.")]
    [InlineData("hdab", "/privacy", "HDAB-PORTAL-ROLES")]
    [Trait("Requirement", "TIR-22")]
    public async Task Each_role_reaches_its_main_page_under_the_strict_policy(string username, string path, string expected)
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync(username);

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains(expected, html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task Permit_upload_with_errors_shows_each_error_by_its_field_and_issues_nothing()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var home = await portal.SignInAsync("hdab", "/permits");
        var html = await home.Content.ReadAsStringAsync();
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(10), PermitFixture.Start.AddDays(1), "HDAB-PORTAL-BAD");

        using var response = await UploadAsync(portal, html, System.Text.Json.JsonSerializer.Serialize(document));
        var page = await response.Content.ReadAsStringAsync();
        using var list = await portal.GetAsync("/permits");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Errors by field", page, StringComparison.Ordinal);
        Assert.Contains("<code>validUntil</code>", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("HDAB-PORTAL-BAD", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task Permit_upload_of_a_valid_document_issues_it_and_a_non_json_file_is_refused_in_words()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var home = await portal.SignInAsync("hdab", "/permits");
        var html = await home.Content.ReadAsStringAsync();
        var document = PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(5), "HDAB-PORTAL-NEW");

        using var issued = await UploadAsync(portal, html, System.Text.Json.JsonSerializer.Serialize(document));
        using var garbage = await UploadAsync(portal, html, "{ not json");

        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        Assert.Contains("Permit HDAB-PORTAL-NEW is issued.", await issued.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Contains("is not valid JSON", await garbage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task Operator_halts_a_project_from_the_page_and_its_members_see_it_halted()
    {
        using var operatorPortal = new PortalBrowser(_f.Server);
        using var page = await operatorPortal.SignInAsync("operator", "/halts");
        var html = await page.Content.ReadAsStringAsync();
        using var researcher = new PortalBrowser(_f.Server);
        using var __ = await researcher.SignInAsync("researcher");

        using var tooShort = await operatorPortal.SubmitAsync(html, "/halts?handler=Halt", ("project", _project), ("reason", "x"));
        using var halted = await operatorPortal.SubmitAsync(html, "/halts?handler=Halt", ("project", _project), ("reason", "suspected exfiltration"));
        using var list = await operatorPortal.GetAsync("/halts");
        using var project = await researcher.GetAsync("/projects/" + _project);

        Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);
        Assert.Contains("role=\"alert\"", await tooShort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, halted.StatusCode);
        Assert.Contains("suspected exfiltration", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode)423, project.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "OPR-20")]
    public async Task Every_page_of_a_halted_project_says_it_is_halted_and_the_project_list_marks_it()
    {
        using var operatorPortal = new PortalBrowser(_f.Server);
        using var halts = await operatorPortal.SignInAsync("operator", "/halts");
        using var halted = await operatorPortal.SubmitAsync(await halts.Content.ReadAsStringAsync(), "/halts?handler=Halt", ("project", _project), ("reason", "suspected exfiltration"));
        Assert.Equal(HttpStatusCode.Redirect, halted.StatusCode);
        using var researcher = new PortalBrowser(_f.Server);
        using var _ = await researcher.SignInAsync("researcher");

        using var list = await researcher.GetAsync("/projects");
        var listHtml = await list.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains($"<strong> — {PortalText.Get("HaltedShort")}</strong>", listHtml, StringComparison.Ordinal);
        foreach (var path in new[] { "", "/jobs", "/jobs/job-none", "/exports", "/exports/exp-none", "/imports", "/imports/imp-none", "/files" })
        {
            using var page = await researcher.GetAsync($"/projects/{_project}{path}");
            var html = await page.Content.ReadAsStringAsync();
            // The page is replaced by the API's own 423 sentence in the halted banner, titled as a halt: nothing else of it shows.
            Assert.True((HttpStatusCode)423 == page.StatusCode, $"{path}: {(int)page.StatusCode}");
            Assert.Contains("<div class=\"banner halted\" role=\"alert\">", html, StringComparison.Ordinal);
            Assert.Contains($"<h1>{PortalText.Get("StatusHalted")}</h1>", html, StringComparison.Ordinal);
            Assert.Contains("halted", html[html.IndexOf("banner halted", StringComparison.Ordinal)..], StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-12")]
    public async Task Auditor_searches_the_log_by_actor_and_action()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("auditor");

        using var response = await portal.GetAsync("/audit?actor=hdab&action=permit.issued");
        var html = await response.Content.ReadAsStringAsync();
        using var bad = await portal.GetAsync("/audit?since=yesterday");

        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("permit.issued", html, StringComparison.Ordinal);
        Assert.DoesNotContain("auth.token.issued", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task Hdab_amends_a_permit_from_a_file_a_wrong_reference_is_refused_in_words_and_a_researchers_forged_amendment_is_403()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var home = await portal.SignInAsync("hdab", "/permits");
        var html = await home.Content.ReadAsStringAsync();
        var permitId = System.Text.RegularExpressions.Regex.Match(html, "<option value=\"([^\"]+)\">HDAB-PORTAL-ROLES ").Groups[1].Value;
        var extended = PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(90), "HDAB-PORTAL-ROLES", "researcher");
        var renamed = PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(90), "HDAB-SOMETHING-ELSE", "researcher");
        using var researcher = new PortalBrowser(_f.Server);
        using var researcherPage = await researcher.SignInAsync("researcher", "/permits");

        using var amended = await UploadAsync(portal, html, System.Text.Json.JsonSerializer.Serialize(extended), "Amend", permitId);
        using var wrongReference = await UploadAsync(portal, html, System.Text.Json.JsonSerializer.Serialize(renamed), "Amend", permitId);
        using var forged = await UploadAsync(researcher, await researcherPage.Content.ReadAsStringAsync(), System.Text.Json.JsonSerializer.Serialize(extended), "Amend", permitId);
        using var hdabApi = await _f.Server.ClientForAccountAsync("hdab");
        var versions = await hdabApi.GetStringAsync($"/api/v1/permits/{permitId}/versions", TestContext.Current.CancellationToken);

        Assert.False(string.IsNullOrEmpty(permitId), "the amend form lists the permit");
        Assert.True(amended.StatusCode == HttpStatusCode.OK, await amended.Content.ReadAsStringAsync());
        Assert.Contains("Permit HDAB-PORTAL-ROLES is amended: it is now version 2.", await amended.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True((int)wrongReference.StatusCode is 400 or 409 or 422, $"{(int)wrongReference.StatusCode}");
        Assert.Contains("reference", await wrongReference.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(versions).RootElement.GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "TIR-25")]
    public async Task Hdab_and_checkers_read_every_export_across_projects_without_its_content()
    {
        await using (var scope = _f.Server.Services.CreateAsyncScope())
        {
            // Arrange-only: an export request as the airlock stores it (the workflow itself is in Airlock/ExportWorkflowTests).
            var database = scope.ServiceProvider.GetRequiredService<OpenSpe.Server.Persistence.SpeDbContext>();
            database.Add(new OpenSpe.Server.Airlock.AirlockRequestEntity
            {
                Id = "exp-registry-test-1",
                ProjectId = _project,
                Direction = "export",
                RequestedBy = "researcher",
                RequestedByName = "researcher",
                Reason = "Counts for the registry page",
                ReviewersRequired = 2,
                CreatedAt = PermitFixture.Start,
            });
            await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        foreach (var username in new[] { "hdab", "checker" })
        {
            using var portal = new PortalBrowser(_f.Server);
            using var home = await portal.SignInAsync(username);
            using var page = await portal.GetAsync("/exports");
            var html = await page.Content.ReadAsStringAsync();

            Assert.Contains("href=\"/exports\"", await home.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.True(page.StatusCode == HttpStatusCode.OK, html);
            Assert.Contains("exp-registry-test-1", html, StringComparison.Ordinal);
            Assert.Contains(_project, html, StringComparison.Ordinal);
        }
    }

    private static Task<HttpResponseMessage> UploadAsync(PortalBrowser portal, string html, string json, string handler = "Create", string? permitId = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(PortalBrowser.AntiforgeryToken(html)), "__RequestVerificationToken" },
        };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        form.Add(file, "document", "permit.json");
        if (permitId is not null)
        {
            form.Add(new StringContent(permitId), "id");
        }

        return portal.Browser.Http.PostAsync($"/permits?handler={handler}", form);
    }
}
