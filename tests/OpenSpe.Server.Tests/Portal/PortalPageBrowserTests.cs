using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Desktop;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The portal in a real browser (Debian's Chromium driven by Playwright, headless): sign-in with password and TOTP through
/// the code + PKCE flow, the researcher's project page and desktop (a real sandbox: a frame appears), every role's main page
/// checked by axe-core (no serious or critical WCAG 2.1 A/AA violation) with nothing loaded from another origin, and a
/// screenshot of each written to docs/screenshots/.
/// </summary>
[Collection(DesktopBrowserSerial.Name)]
public sealed class PortalPageBrowserTests(DesktopFixture f, SharedChromium chromium) : IClassFixture<DesktopFixture>, IClassFixture<SharedChromium>
{
    [Fact]
    [Trait("Requirement", "TIR-18")]
    [Trait("Requirement", "TIR-19")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "SPER-7")]
    public async Task Researcher_signs_in_with_password_and_totp_opens_the_project_and_its_desktop_shows_a_frame()
    {
        f.RequireDesktop();
        var axe = PortalChromium.RequireBrowserAndAxe();
        var (_, projectId) = await f.IssueAsync();
        var browser = await chromium.BrowserAsync();
        var (page, foreign, errors) = await PortalChromium.NewPageAsync(browser, f.Server);

        await PortalChromium.SignInAsync(page, f.Server, "researcher");
        await PortalChromium.CheckAsync(page, axe, "researcher-home");
        await page.GetByRole(AriaRole.Link, new() { Name = "My projects" }).First.ClickAsync();
        await page.WaitForURLAsync("**/projects");
        await PortalChromium.CheckAsync(page, axe, "researcher-projects");
        await page.Locator($"a[href='/projects/{projectId}']").ClickAsync();
        await page.WaitForURLAsync($"**/projects/{projectId}");
        var terms = await page.Locator("#terms-heading").TextContentAsync();
        await PortalChromium.CheckAsync(page, axe, "researcher-project");
        await page.GetByRole(AriaRole.Button, new() { Name = "Accept the terms and open the desktop" }).ClickAsync();
        await page.WaitForURLAsync($"**/desktop/{projectId}");
        try
        {
            await page.WaitForFunctionAsync(DesktopFixture.CanvasHasAFrame, null, new() { Timeout = 60_000, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no frame; status '{await page.Locator("#status").TextContentAsync()}'; {string.Join("; ", errors)}");
        }

        Assert.Equal("Terms of use", terms);
        Assert.DoesNotContain("ticket", page.Url, StringComparison.Ordinal);
        Assert.Empty(errors);
        Assert.Empty(foreign);
        Assert.Single(await f.AuditAsync(projectId, "desktop.ticket.used"));
    }

    [Theory]
    [InlineData(null, "/", "signed-out-front-page")]
    [InlineData("researcher", "/", "researcher-home")]
    [InlineData("researcher", "/projects", "researcher-projects")]
    [InlineData("researcher", "/projects/{project}", "researcher-project")]
    [InlineData("researcher", "/projects/{project}/jobs", "researcher-jobs")]
    [InlineData("researcher", "/projects/{project}/exports", "researcher-exports")]
    [InlineData("researcher", "/projects/{project}/imports", "researcher-imports")]
    [InlineData("researcher", "/projects/{project}/imports/{import}", "researcher-import")]
    [InlineData("holder", "/projects", "data-holder-projects")]
    [InlineData("holder", "/projects/{project}/files", "data-holder-files")]
    [InlineData("checker", "/review", "output-checker-review-queue")]
    [InlineData("checker", "/review/{project}/{request}", "output-checker-review")]
    [InlineData("checker", "/review/imports", "output-checker-import-queue")]
    [InlineData("checker", "/review/imports/{project}/{import}", "output-checker-import-review")]
    [InlineData("hdab", "/permits", "hdab-permits")]
    [InlineData("hdab", "/halts", "hdab-halts")]
    [InlineData("hdab", "/exports", "hdab-exports")]
    [InlineData("hdab", "/incidents", "hdab-incidents")]
    [InlineData("hdab", "/privacy", "hdab-privacy")]
    [InlineData("hdab", "/permits/new", "hdab-permit-form")]
    [InlineData("operator", "/", "operator-home")]
    [InlineData("operator", "/halts", "operator-halts")]
    [InlineData("operator", "/alerts", "operator-alerts")]
    [InlineData("operator", "/incidents", "operator-incidents")]
    [InlineData("operator", "/incidents/{incident}", "operator-incident")]
    [InlineData("operator", "/backups", "operator-backups")]
    [InlineData("operator", "/components", "operator-components")]
    [InlineData("auditor", "/audit", "auditor-audit")]
    [InlineData("auditor", "/compliance", "auditor-compliance")]
    [InlineData("auditor", "/alerts", "auditor-alerts")]
    [InlineData("auditor", "/account", "everyone-account")]
    [InlineData("admin", "/admin/accounts", "admin-accounts")]
    [InlineData("admin", "/admin/applications", "admin-applications")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Every_portal_page_passes_axe_works_by_keyboard_fits_the_screen_sends_the_strict_policy_and_loads_nothing_from_another_origin(string? username, string path, string screenshot)
    {
        var axe = PortalChromium.RequireBrowserAndAxe();
        var browser = await chromium.BrowserAsync();
        // Note: the researcher's export page is seen with files in /outputs to tick and a request in its list.
        var withOutputs = path == "/projects/{project}/exports";
        var (_, projectId) = path.EndsWith("/files", StringComparison.Ordinal) ? await IssueWithFileAsync()
            : path.Contains("{request}", StringComparison.Ordinal) || withOutputs ? await IssueWithExportsAsync()
            : path.Contains("imports", StringComparison.Ordinal) ? await IssueWithImportAsync() : await f.IssueAsync();
        var requestId = path.Contains("{request}", StringComparison.Ordinal) ? await RequestExportAsync(projectId) : "";
        if (withOutputs)
        {
            await RequestExportAsync(projectId);
        }

        var importId = path.Contains("{import}", StringComparison.Ordinal) ? (await ImportsAsync(projectId))[0] : "";
        // Note: pages with content are what axe must see (forms, tables, banners), not only their empty states.
        await SeedAlertAsync(projectId, PermitFixture.Start.AddDays(-2));
        var incidentId = path.Contains("{incident}", StringComparison.Ordinal) ? await OpenIncidentAsync(projectId) : "";
        var (page, foreign, errors) = await PortalChromium.NewPageAsync(browser, f.Server);
        if (username is not null)
        {
            await PortalChromium.SignInAsync(page, f.Server, username);
        }

        var response = await page.GotoAsync(new Uri(f.Server.BaseAddress, path.Replace("{project}", projectId, StringComparison.Ordinal)
            .Replace("{incident}", incidentId, StringComparison.Ordinal).Replace("{request}", requestId, StringComparison.Ordinal)
            .Replace("{import}", importId, StringComparison.Ordinal)).ToString());
        await PortalChromium.CheckAsync(page, axe, screenshot);
        await PortalKeyboard.CheckAsync(page);
        // Every image on the page was drawn: the review page's previews come through its handler under their own policy.
        var broken = await page.EvaluateAsync<string[]>("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)");
        var images = await page.EvaluateAsync<int>("() => document.images.length");

        Assert.True(response!.Status == 200, $"{path} answered {response.Status}: {await page.Locator("main").TextContentAsync()}");
        Assert.Equal(OpenSpe.Server.Portal.PortalHeaders.ContentSecurityPolicy, await response.HeaderValueAsync("content-security-policy"));
        Assert.Empty(foreign);
        Assert.Empty(errors);
        Assert.Empty(broken);
        if (requestId.Length > 0)
        {
            // The review page's PNG and JPEG (a positive control for the check above).
            Assert.Equal(2, images);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-22")]
    public async Task Operator_sees_an_alert_and_acknowledges_it_in_Chromium()
    {
        var axe = PortalChromium.RequireBrowserAndAxe();
        var browser = await chromium.BrowserAsync();
        var alertId = await SeedAlertAsync(null, PermitFixture.Start.AddMinutes(-3));
        var (page, foreign, errors) = await PortalChromium.NewPageAsync(browser, f.Server);

        await PortalChromium.SignInAsync(page, f.Server, "operator");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Alerts" }).ClickAsync();
        await page.WaitForURLAsync("**/alerts");
        var card = page.Locator($"section[aria-labelledby='alert-{alertId}']");
        await PortalChromium.CheckAsync(page, axe, "operator-alert-open");
        await card.GetByLabel("What you saw and did").FillAsync("Looked at the sign-in log: a mistyped password");
        await card.GetByRole(AriaRole.Button, new() { Name = "Acknowledge the alert" }).ClickAsync();
        await page.WaitForURLAsync("**/alerts");
        await card.GetByText("Acknowledged by operator").WaitForAsync();
        await PortalChromium.CheckAsync(page, axe, "operator-alert-acknowledged");

        Assert.Equal(0, await card.GetByRole(AriaRole.Button, new() { Name = "Acknowledge the alert" }).CountAsync());
        Assert.Empty(foreign);
        Assert.Empty(errors);
        await using var scope = f.Server.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Set<AlertEntity>().AsNoTracking().SingleAsync(a => a.Id == alertId, TestContext.Current.CancellationToken);
        Assert.Equal(("acknowledged", "operator"), (stored.State, stored.AcknowledgedBy));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Account_page_and_its_new_second_factor_pass_axe_with_the_qr_code_drawn_by_the_server()
    {
        var axe = PortalChromium.RequireBrowserAndAxe();
        var browser = await chromium.BrowserAsync();
        var (page, foreign, errors) = await PortalChromium.NewPageAsync(browser, f.Server);

        await PortalChromium.SignInAsync(page, f.Server, "auditor");
        var account = await page.GotoAsync(new Uri(f.Server.BaseAddress, "/account").ToString());
        await PortalChromium.CheckAsync(page, axe, "everyone-account");
        // Replacing the enrolled factor needs the current password as well as the session.
        await page.GetByLabel("Current password (needed to replace your authenticator)").FillAsync(f.Server.Credentials("auditor").Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set up a new authenticator app" }).ClickAsync();
        await page.Locator("#otpauth").WaitForAsync();
        var qrWidth = await page.EvaluateAsync<int>("() => document.querySelector('main img').naturalWidth");
        await PortalChromium.CheckAsync(page, axe, "everyone-account-new-factor");

        Assert.Equal(OpenSpe.Server.Portal.PortalHeaders.ContentSecurityPolicy, await account!.HeaderValueAsync("content-security-policy"));
        Assert.True(qrWidth > 100, $"the QR code did not render ({qrWidth} px)");
        Assert.StartsWith("otpauth://totp/OpenSPE:auditor", await page.Locator("#otpauth").TextContentAsync(), StringComparison.Ordinal);
        Assert.Empty(foreign);
        Assert.Empty(errors);
    }

    /// <summary>
    /// The pages a person reaches from the portal that are not built on its layout: the SPE's sign-in page, the holder's upload
    /// page, the researcher's desktop. Each passes axe, every document the browser loads carries a strict policy (no inline
    /// script, no eval), and nothing loads from another origin. The terminal page gets the same axe check in
    /// <c>TerminalPageBrowserTests</c>.
    /// </summary>
    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task The_sign_in_upload_and_desktop_pages_pass_axe_send_a_strict_policy_and_load_nothing_from_another_origin()
    {
        f.RequireDesktop();
        var axe = PortalChromium.RequireBrowserAndAxe();
        var browser = await chromium.BrowserAsync();
        var (_, projectId) = await f.IssueAsync();
        var policies = new List<(string Url, int Status, string? Policy)>();

        // The sign-in page, reached from the front page's link through the code + PKCE flow.
        var (holder, holderForeign, holderErrors) = await PortalChromium.NewPageAsync(browser, f.Server);
        holder.Response += (_, response) => Record(policies, response);
        await holder.GotoAsync(f.Server.BaseAddress.ToString());
        await holder.GetByRole(AriaRole.Link, new() { Name = "Sign in to the portal" }).ClickAsync();
        await holder.WaitForURLAsync("**/account/login**");
        await PortalChromium.CheckAsync(holder, axe, "signed-out-sign-in");
        await PortalKeyboard.CheckAsync(holder, skipLink: false);

        // The upload page, opened by the holder from the project page.
        await PortalChromium.SignInAsync(holder, f.Server, "holder");
        await holder.GotoAsync(new Uri(f.Server.BaseAddress, $"/projects/{projectId}").ToString());
        await holder.GetByRole(AriaRole.Button, new() { Name = "Upload data (encrypted in this browser)" }).ClickAsync();
        await holder.WaitForURLAsync($"**/upload/{projectId}*");
        await holder.Locator("#form-section").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        await PortalChromium.CheckAsync(holder, axe, "data-holder-upload");
        await PortalKeyboard.CheckAsync(holder, skipLink: false);

        // The desktop, opened by the researcher from the project page, once its first frame is drawn.
        var (researcher, researcherForeign, researcherErrors) = await PortalChromium.NewPageAsync(browser, f.Server);
        researcher.Response += (_, response) => Record(policies, response);
        await PortalChromium.SignInAsync(researcher, f.Server, "researcher");
        await researcher.GotoAsync(new Uri(f.Server.BaseAddress, $"/projects/{projectId}").ToString());
        await researcher.GetByRole(AriaRole.Button, new() { Name = "Accept the terms and open the desktop" }).ClickAsync();
        await researcher.WaitForURLAsync($"**/desktop/{projectId}");
        await researcher.WaitForFunctionAsync(DesktopFixture.CanvasHasAFrame, null, new() { Timeout = 60_000, PollingInterval = 100 });
        await PortalChromium.CheckAsync(researcher, axe, "researcher-desktop");

        var pages = policies.Where(p => p.Status == 200).ToList();
        Assert.Contains(pages, p => p.Url.Contains("/account/login", StringComparison.Ordinal));
        Assert.Contains(pages, p => p.Url.Contains($"/upload/{projectId}", StringComparison.Ordinal));
        Assert.Contains(pages, p => p.Url.Contains($"/desktop/{projectId}", StringComparison.Ordinal));
        Assert.All(pages, p => Assert.True(p.Policy is { } policy && policy.StartsWith("default-src 'none'", StringComparison.Ordinal)
            && policy.Contains("frame-ancestors 'none'", StringComparison.Ordinal) && !policy.Contains("unsafe", StringComparison.Ordinal)
            && (!policy.Contains("script-src", StringComparison.Ordinal) || policy.Contains("script-src 'self';", StringComparison.Ordinal)),
            $"{p.Url}: {p.Policy}"));
        Assert.Empty(holderForeign.Concat(researcherForeign));
        Assert.Empty(holderErrors.Concat(researcherErrors));
    }

    /// <summary>
    /// A date on a page is shown in the browser's time zone with its offset (issue #18 item 3): the same permit's validity reads
    /// in Kolkata's time (UTC+05:30, a zone with no daylight saving) once the portal's script has run.
    /// </summary>
    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Dates_are_shown_in_the_browsers_time_zone_with_the_offset()
    {
        PortalChromium.RequireBrowserAndAxe();
        var browser = await chromium.BrowserAsync();
        var (_, projectId) = await f.IssueAsync();
        var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true, TimezoneId = "Asia/Kolkata" });
        var page = await context.NewPageAsync();

        await PortalChromium.SignInAsync(page, f.Server, "researcher");
        await page.GotoAsync(new Uri(f.Server.BaseAddress, $"/projects/{projectId}").ToString());
        var time = page.Locator("main time[datetime]").First;
        var datetime = await time.GetAttributeAsync("datetime");
        var shown = await time.TextContentAsync();
        await context.CloseAsync();

        var local = DateTimeOffset.Parse(datetime!, System.Globalization.CultureInfo.InvariantCulture).ToOffset(TimeSpan.FromMinutes(330));
        Assert.Equal(local.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC+05:30", shown);
    }

    private static void Record(List<(string Url, int Status, string? Policy)> policies, IResponse response)
    {
        if (response.Request.ResourceType == "document")
        {
            lock (policies)
            {
                policies.Add((response.Url, response.Status, response.Headers.GetValueOrDefault("content-security-policy")));
            }
        }
    }

    /// <summary>Stores an alert as the dispatcher does after a rule fired (the firing itself is covered by the alert tests).</summary>
    private async Task<string> SeedAlertAsync(string? projectId, DateTimeOffset firedAt)
    {
        await using var scope = f.Server.Services.CreateAsyncScope();
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
            FiredAt = firedAt,
            Description = "12 failed sign-ins in 15 minutes",
            ProjectId = projectId,
            Revision = Guid.NewGuid(),
        };
        database.Add(alert);
        await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        return alert.Id;
    }

    /// <summary>A project whose permit allows CSV uploads, with one verified dataset file for the holder's file list (uploaded over tus as <c>spe upload</c> does).</summary>
    private async Task<(string PermitId, string ProjectId)> IssueWithFileAsync()
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), "HDAB-FILES-" + Guid.NewGuid().ToString("N")[..8]);
        document["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", fileTypes = new { upload = new[] { "csv" } } };
        var (permitId, projectId) = await f.Permits.IssueAsync(document);
        var csv = "person_id,year_of_birth\n1,1970\n2,1985\n"u8.ToArray();
        using var holder = await f.Server.ClientForAccountAsync("holder");
        var tus = new OpenSpe.Server.Tests.Transfers.TusClient(holder, projectId);
        var (_, last) = await tus.UploadAsync(OpenSpe.Server.Tests.Transfers.TusClient.Encrypt(csv, await tus.ProjectKeyAsync()), "omop-2026", "person.csv",
            OpenSpe.Server.Tests.Transfers.TusClient.Sha256Hex(csv));
        last.Dispose();
        return (permitId, projectId);
    }

    /// <summary>
    /// An export request of <paramref name="projectId"/> for the review page: a table, a PNG and a JPEG written by a real
    /// sandbox job, asked for by the researcher.
    /// </summary>
    private async Task<string> RequestExportAsync(string projectId)
    {
        using var researcher = await f.Server.ClientForAccountAsync("researcher");
        var job = await OpenSpe.Server.Tests.Workspaces.JobsApi.StartAsync(researcher, projectId, "/bin/sh", "-c",
            "printf 'group,count\\na,12\\nb,15\\n' > /outputs/table.csv && " + OpenSpe.Server.Tests.Airlock.TestImages.Write("figure.png", OpenSpe.Server.Tests.Airlock.TestImages.Png)
            + " && " + OpenSpe.Server.Tests.Airlock.TestImages.Write("photo.jpg", OpenSpe.Server.Tests.Airlock.TestImages.Jpeg));
        var log = await OpenSpe.Server.Tests.Workspaces.JobsApi.LogAsync(researcher, projectId, job);
        Assert.True(log[^1].State == JobStates.Succeeded, string.Join(" | ", log.Select(e => e.Text)));
        using var created = await researcher.PostAsJsonAsync($"/api/v1/projects/{projectId}/exports",
            new { files = new[] { "table.csv", "figure.png", "photo.jpg" }, reason = "Counts per group and the figure of the paper." });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == System.Net.HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>A project whose permit allows jobs and exports of tables and images.</summary>
    private Task<(string PermitId, string ProjectId)> IssueWithExportsAsync()
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), "HDAB-REVIEW-" + Guid.NewGuid().ToString("N")[..8]);
        document["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", fileTypes = new { export = new[] { "csv", "png", "jpg" } } };
        return f.Permits.IssueAsync(document);
    }

    /// <summary>A project whose permit allows Python and CSV imports, with one pending import request the researcher made (multipart, as the form sends it).</summary>
    private async Task<(string PermitId, string ProjectId)> IssueWithImportAsync()
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), "HDAB-IMPORTS-" + Guid.NewGuid().ToString("N")[..8]);
        document["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", fileTypes = new { import = new[] { "py", "csv" } } };
        var (permitId, projectId) = await f.Permits.IssueAsync(document);
        using var researcher = await f.Server.ClientForAccountAsync("researcher");
        using var body = new MultipartFormDataContent
        {
            { new StringContent("The cohort helper the analysis plan names."), "reason" },
            { new ByteArrayContent("print('cohort helper v1')\n"u8.ToArray()), "files", "helper.py" },
        };
        using var created = await researcher.PostAsync($"/api/v1/projects/{projectId}/imports", body);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return (permitId, projectId);
    }

    private async Task<List<string>> ImportsAsync(string projectId)
    {
        using var researcher = await f.Server.ClientForAccountAsync("researcher");
        var imports = await researcher.GetFromJsonAsync<List<JsonElement>>($"/api/v1/projects/{projectId}/imports", TestContext.Current.CancellationToken);
        return imports!.Select(i => i.GetProperty("id").GetString()!).ToList();
    }

    private async Task<string> OpenIncidentAsync(string projectId)
    {
        using var operatorClient = await f.Server.ClientForAccountAsync("operator");
        using var created = await operatorClient.PostAsJsonAsync("/api/v1/incidents", new
        {
            title = "Unexpected outbound connection attempt",
            description = "The sandbox refused a connection to an outside address.",
            severity = "medium",
            detectedAt = PermitFixture.Start.AddDays(-4),
            projectIds = new[] { projectId },
        });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
