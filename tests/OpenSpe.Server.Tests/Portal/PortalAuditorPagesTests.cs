using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The auditor's export and compliance report in the portal through the real HTTP pipeline: the audit export is the API's,
/// streamed through with its content type and a file name and audited as the API audits it; the compliance page shows the
/// requirement counts, the live evidence and every requirement, and downloads the report as HTML and JSON. Both /audit and
/// /compliance show the audit chain's last recorded verification and verify nothing on a view; their verify form runs one
/// full verification, recorded once. Every other role
/// gets the API's 403 and nothing of either; a signed-out browser is sent to sign in (EHDSR-6, OPR-6, OPR-7, TIR-22).
/// </summary>
public sealed partial class PortalAuditorPagesTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private SpeTestServer Server => shared.Server;

    [Theory]
    [InlineData("jsonl", "application/jsonl", ".jsonl")]
    [InlineData("csv", "text/csv", ".csv")]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "TIR-22")]
    public async Task Auditor_downloads_the_audit_export_as_a_file_with_the_apis_content_type_and_the_api_audits_it(string format, string mediaType, string extension)
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");
        using var page = await portal.GetAsync("/audit");
        var html = await page.Content.ReadAsStringAsync();
        var watermark = (await ExportRecordsAsync()).Select(r => r.Sequence).DefaultIfEmpty(0).Max();

        using var export = await portal.GetAsync($"/audit?handler=Export&format={format}");
        var body = await export.Content.ReadAsStringAsync();

        Assert.Contains("name=\"handler\" value=\"Export\"", html, StringComparison.Ordinal);
        Assert.True(export.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal(mediaType, export.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", export.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Matches(@"^openspe-audit-\d{8}T\d{6}Z" + Regex.Escape(extension) + "$", export.Content.Headers.ContentDisposition?.FileNameStar ?? export.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2);
        if (format == "csv")
        {
            Assert.StartsWith("sequence,timestamp,", lines[0], StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(1, JsonDocument.Parse(lines[0]).RootElement.GetProperty("sequence").GetInt64());
        }

        // Note: the API writes the closed record after the last byte; the test waits for it as a reader of the log would.
        var closed = await ClosedExportRecordAsync(watermark);
        Assert.Equal("auditor", closed.Actor.Username);
        Assert.Equal("completed", Detail(closed, "end"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task The_export_keeps_the_time_range_the_auditor_gives()
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");

        using var future = await portal.GetAsync("/audit?handler=Export&format=jsonl&since=2099-01-01T00:00");
        using var past = await portal.GetAsync("/audit?handler=Export&format=jsonl&until=2000-01-01T00:00");
        using var all = await portal.GetAsync("/audit?handler=Export&format=jsonl&since=2000-01-01T00:00&until=2099-01-01T00:00");

        Assert.Equal(HttpStatusCode.OK, future.StatusCode);
        Assert.Empty((await future.Content.ReadAsStringAsync()).Trim());
        Assert.Equal(HttpStatusCode.OK, past.StatusCode);
        Assert.Empty((await past.Content.ReadAsStringAsync()).Trim());
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.NotEmpty((await all.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task The_export_keeps_the_actor_project_and_action_the_auditor_gives()
    {
        var project = "prj-portal-" + Guid.NewGuid().ToString("N")[..8];
        using (var researcher = await Server.ClientForAccountAsync("researcher"))
        {
            using var first = await researcher.GetAsync($"/api/v1/projects/{project}/exports");
            using var second = await researcher.GetAsync($"/api/v1/projects/{project}/imports");
        }

        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");
        using var page = await portal.GetAsync("/audit");
        var html = await page.Content.ReadAsStringAsync();

        using var byProject = await portal.GetAsync($"/audit?handler=Export&format=jsonl&project={project}&actor=researcher&since=2000-01-01T00:00");
        var records = (await byProject.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var action = records[0].GetProperty("action").GetString()!;
        using var byAction = await portal.GetAsync($"/audit?handler=Export&format=jsonl&project={project}&action={Uri.EscapeDataString(action)}");
        var oneAction = (await byAction.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var otherActor = await portal.GetAsync($"/audit?handler=Export&format=csv&project={project}&actor=auditor");

        foreach (var name in new[] { "actor", "project", "action" })
        {
            Assert.Matches($"<input type=\"search\" id=\"export-{name}\" name=\"{name}\"", html);
        }

        Assert.Equal(HttpStatusCode.OK, byProject.StatusCode);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(project, r.GetProperty("resource").GetProperty("projectId").GetString()));
        Assert.All(records, r => Assert.Equal("researcher", r.GetProperty("actor").GetProperty("username").GetString()));
        Assert.Single(oneAction);
        Assert.Equal(HttpStatusCode.OK, otherActor.StatusCode);
        Assert.Equal("sequence,timestamp,actor_subject,actor_username,actor_roles,actor_client_id,source_ip,user_agent,action,resource_type,resource_id,project_id,outcome,http_status,trace_id,details,hash",
            (await otherActor.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task A_filter_too_long_for_the_api_is_refused_with_400_at_its_field_and_nothing_downloads()
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");

        using var response = await portal.GetAsync("/audit?handler=Export&format=jsonl&actor=" + new string('a', 201));
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.Contains("<p id=\"export-actor-error\" class=\"field-error\">actor must be at most 200 characters.", html, StringComparison.Ordinal);
        Assert.Matches("aria-describedby=\"export-actor-error\" aria-invalid=\"true\"", html);
        Assert.Contains("value=\"" + new string('a', 201) + "\"", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("format=jsonl&since=2026-02-01T00:00&until=2026-01-01T00:00", "until", "until must not be before since.")]
    [InlineData("format=xml", "format", "format must be jsonl or csv.")]
    [InlineData("format=csv&since=yesterday", "since", "A time is not a date and time")]
    [InlineData("format=csv&until=31.12.2026", "until", "A time is not a date and time")]
    [Trait("Requirement", "EHDSR-6")]
    public async Task A_malformed_export_is_refused_with_400_and_the_reason_at_its_field(string query, string field, string reason)
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");

        using var response = await portal.GetAsync("/audit?handler=Export&" + query);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.Contains($"<p id=\"export-{field}-error\" class=\"field-error\">{reason}", html, StringComparison.Ordinal);
        Assert.Matches($"aria-describedby=\"[^\"]*export-{field}-error\" aria-invalid=\"true\"", html);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("researcher", "/audit?handler=Export&format=csv")]
    [InlineData("researcher", "/audit?handler=Export&format=jsonl&actor=researcher&project=prj-x&action=audit.export")]
    [InlineData("checker", "/audit?handler=Export&format=csv&action=audit.export")]
    [InlineData("operator", "/audit?handler=Export&format=jsonl")]
    [InlineData("admin", "/audit?handler=Export&format=csv")]
    [InlineData("hdab", "/compliance")]
    [InlineData("operator", "/compliance")]
    [InlineData("researcher", "/compliance?handler=Json")]
    [InlineData("admin", "/compliance?handler=Html")]
    [InlineData("checker", "/compliance?handler=Json")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "OPR-6")]
    public async Task Every_other_role_gets_the_apis_403_and_no_export_or_report(string username, string path)
    {
        using var portal = new PortalBrowser(Server);
        using var home = await portal.SignInAsync(username);
        var homeHtml = await home.Content.ReadAsStringAsync();

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Not allowed", html, StringComparison.Ordinal);
        Assert.DoesNotContain("sequence,timestamp", html, StringComparison.Ordinal);
        Assert.DoesNotContain("compliance-requirements", html, StringComparison.Ordinal);
        Assert.DoesNotContain("OPR-23", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/compliance\"", homeHtml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/compliance")]
    [InlineData("/compliance?handler=Json")]
    [InlineData("/audit")]
    [InlineData("/audit?handler=Export&format=csv")]
    [InlineData("/audit?handler=Export&format=csv&actor=auditor&project=prj-x&action=audit.export")]
    [Trait("Requirement", "TIR-22")]
    public async Task A_signed_out_browser_is_sent_to_sign_in_and_gets_nothing(string path)
    {
        using var portal = new PortalBrowser(Server);

        using var response = await portal.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/portal/signin", portal.Browser.Location(response).AbsolutePath);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.DoesNotContain("OPR-", body, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "TIR-22")]
    public async Task Auditor_reads_the_compliance_report_counts_evidence_and_every_requirement_with_its_tests()
    {
        using var portal = new PortalBrowser(Server);
        using var home = await portal.SignInAsync("auditor");
        var homeHtml = await home.Content.ReadAsStringAsync();

        using var response = await portal.GetAsync("/compliance");
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("href=\"/compliance\"", homeHtml, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        var summary = Section(html, "compliance-summary");
        Assert.Contains("<td>119</td>", summary, StringComparison.Ordinal);
        var evidence = Section(html, "compliance-evidence");
        foreach (var name in new[] { "audit-verification", "audit-checkpoint", "backup-and-restore-drill", "open-incidents", "open-alerts", "alert-rules", "certificates", "components" })
        {
            Assert.Contains($"<th scope=\"row\">{name}</th>", evidence, StringComparison.Ordinal);
        }

        // Note: the page shows the last verification the log records; whether one ran before depends on the other tests here.
        Assert.Matches("The audit chain verified at |No verification of the audit chain has been recorded yet", evidence);
        Assert.Contains("Last restore drill: none recorded", evidence, StringComparison.Ordinal);
        var requirements = Section(html, "compliance-requirements");
        Assert.Equal(119, RowPattern().Count(requirements));
        var opr23 = requirements[requirements.IndexOf("<th scope=\"row\">OPR-23</th>", StringComparison.Ordinal)..];
        opr23 = opr23[..opr23.IndexOf("</tr>", StringComparison.Ordinal)];
        Assert.Contains("<td>MUST</td>", opr23, StringComparison.Ordinal);
        Assert.Contains("TrainingGateTests", opr23, StringComparison.Ordinal);
        Assert.Contains("href=\"/compliance?handler=Html\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/compliance?handler=Json\"", html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Auditor_downloads_the_report_as_json_and_as_html_without_script()
    {
        // The report shows the last recorded verification; record one so that item does not depend on test order.
        await RecordVerificationAsync();
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");

        using var json = await portal.GetAsync("/compliance?handler=Json");
        using var html = await portal.GetAsync("/compliance?handler=Html");
        var report = JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement;
        var page = await html.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Matches(@"^openspe-compliance-\d{8}T\d{6}Z\.json$", json.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal(119, report.GetProperty("requirements").GetArrayLength());
        Assert.Equal(new Uri(Server.BaseAddress.GetLeftPart(UriPartial.Authority)), new Uri(report.GetProperty("server").GetString()!));
        // Note: a fresh server has signed no checkpoint yet; that item says so, and every other item is there for the auditor.
        Assert.All(report.GetProperty("evidence").EnumerateArray().Where(e => e.GetProperty("name").GetString() != "audit-checkpoint"),
            e => Assert.True(e.GetProperty("available").GetBoolean(), e.GetProperty("summary").GetString()));
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Matches(@"^openspe-compliance-\d{8}T\d{6}Z\.html$", html.Content.Headers.ContentDisposition?.FileNameStar);
        var document = System.Xml.Linq.XDocument.Parse(page[page.IndexOf("<html", StringComparison.Ordinal)..]);
        Assert.DoesNotContain(document.Descendants(), e => e.Name.LocalName is "script" or "iframe" or "object" or "link");
        Assert.Equal(120, document.Descendants("tr").Count(r => r.Parent!.Elements("tr").First().Elements("th").Any(th => th.Value == "ID")));
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task A_compliance_view_shows_the_last_recorded_verification_with_its_time_and_verifies_nothing()
    {
        var last = await RecordVerificationAsync();
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");
        var watermark = await HeadAsync();

        using var response = await portal.GetAsync("/compliance");
        using var json = await portal.GetAsync("/compliance?handler=Json");
        var evidence = Section(WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), "compliance-evidence");
        var report = JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement;
        var verifications = await RecordsAsync(watermark, "audit.verify", "audit.verified");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(last.Valid);
        Assert.Empty(verifications);
        Assert.Contains($"The audit chain verified at {last.VerifiedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture)} (run by auditor): {last.RecordsChecked} records through sequence {last.LastSequence}",
            evidence, StringComparison.Ordinal);
        var item = report.GetProperty("evidence").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "audit-verification");
        Assert.Equal(last.Sequence, item.GetProperty("data").GetProperty("sequence").GetInt64());
    }

    [Theory]
    [InlineData("researcher", "/compliance")]
    [InlineData("operator", "/compliance")]
    [InlineData("hdab", "/compliance")]
    [InlineData("admin", "/compliance")]
    [InlineData("researcher", "/audit")]
    [InlineData("operator", "/audit")]
    [InlineData("hdab", "/audit")]
    [InlineData("admin", "/audit")]
    [InlineData("checker", "/audit")]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "TIR-22")]
    public async Task The_view_and_the_verify_action_of_every_other_role_get_the_apis_403_and_record_no_verification(string username, string page)
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync(username);
        // Note: the token of the person's own session, from a page every role has; the auditor's pages are refused them.
        using var account = await portal.GetAsync("/account");
        var html = await account.Content.ReadAsStringAsync();
        var watermark = await HeadAsync();

        using var view = await portal.GetAsync(page);
        using var response = await portal.SubmitAsync(html, page + "?handler=Verify");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, view.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Not allowed", body, StringComparison.Ordinal);
        Assert.DoesNotContain("chain-result", body, StringComparison.Ordinal);
        Assert.Empty(await RecordsAsync(watermark, "audit.verified"));
    }

    [Theory]
    [InlineData("/compliance")]
    [InlineData("/audit")]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "TIR-22")]
    public async Task The_verify_action_without_its_antiforgery_token_or_signed_out_verifies_nothing(string page)
    {
        using var signedOut = new PortalBrowser(Server);
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");
        var watermark = await HeadAsync();

        using var noToken = await portal.Browser.PostFormAsync(page + "?handler=Verify", []);
        using var forged = await portal.Browser.PostFormAsync(page + "?handler=Verify", [new("__RequestVerificationToken", "forged")]);
        using var anonymous = await signedOut.Browser.PostFormAsync(page + "?handler=Verify", []);

        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.True(anonymous.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.BadRequest, $"signed out: {anonymous.StatusCode}");
        Assert.Empty(await RecordsAsync(watermark, "audit.verify", "audit.verified"));
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "TIR-22")]
    public async Task An_audit_view_shows_the_last_recorded_verification_with_its_time_and_verifies_nothing()
    {
        var last = await RecordVerificationAsync();
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");
        var watermark = await HeadAsync();

        using var first = await portal.GetAsync("/audit");
        using var second = await portal.GetAsync("/audit?actor=auditor");
        var html = WebUtility.HtmlDecode(await first.Content.ReadAsStringAsync());
        var chain = ChainSection(html);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Empty(await RecordsAsync(watermark, "audit.verify", "audit.verified"));
        Assert.True(last.Valid);
        Assert.Contains("At its last verification the audit chain was intact", chain, StringComparison.Ordinal);
        Assert.Contains($"Verified at <time datetime=\"{last.VerifiedAt.ToString("yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture)}\">", chain, StringComparison.Ordinal);
        Assert.Contains("(run by auditor).", chain, StringComparison.Ordinal);
        Assert.Contains($"{last.RecordsChecked} records through sequence {last.LastSequence} and {last.CheckpointsChecked} signed checkpoints checked", chain, StringComparison.Ordinal);
        Assert.Matches("<form method=\"post\"[^>]* action=\"/audit\\?handler=Verify\"", html);
    }

    [Theory]
    [InlineData("/compliance")]
    [InlineData("/audit")]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "TIR-22")]
    public async Task The_verify_action_verifies_the_whole_chain_records_it_once_and_the_page_shows_the_new_result(string path)
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("auditor");
        using var page = await portal.GetAsync(path);
        var html = await page.Content.ReadAsStringAsync();
        var watermark = await HeadAsync();

        using var verify = await portal.SubmitAsync(html, path + "?handler=Verify");
        using var after = await portal.Browser.FollowAsync(verify);
        var shown = WebUtility.HtmlDecode(await after.Content.ReadAsStringAsync());
        var run = Assert.Single(await RecordsAsync(watermark, "audit.verify"));
        var recorded = Assert.Single(await RecordsAsync(watermark, "audit.verified"));

        Assert.Matches($"<form method=\"post\"[^>]* action=\"{path}\\?handler=Verify\"", html);
        Assert.Equal(HttpStatusCode.Redirect, verify.StatusCode);
        Assert.Equal(path, portal.Browser.Location(verify).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(200, run.HttpStatus);
        Assert.Equal("auditor", recorded.ActorUsername);
        Assert.Equal("true", Detail(recorded, "valid"));
        Assert.True(long.Parse(Detail(recorded, "lastSequence")!, System.Globalization.CultureInfo.InvariantCulture) > watermark);
        var at = OpenSpe.Core.Audit.AuditTime.FromMicros(recorded.TimestampMicros);
        // Note: the compliance report words it as the CLI's report does; /audit shows the time in the browser's zone.
        if (path == "/compliance")
        {
            Assert.Contains($"The audit chain verified at {at.ToString("u", System.Globalization.CultureInfo.InvariantCulture)} (run by auditor): {Detail(recorded, "recordsChecked")} records",
                Section(shown, "compliance-evidence"), StringComparison.Ordinal);
        }
        else
        {
            var chain = ChainSection(shown);
            Assert.Contains($"Verified at <time datetime=\"{at.ToString("yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture)}\">", chain, StringComparison.Ordinal);
            Assert.Contains($"{Detail(recorded, "recordsChecked")} records through sequence {Detail(recorded, "lastSequence")}", chain, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "TIR-22")]
    public async Task Before_any_verification_the_audit_page_says_none_is_recorded_and_shows_the_newest_checkpoint()
    {
        // Note: a server of its own, on which nothing has verified the chain yet, whatever the shared server's tests did.
        await using var server = await SpeTestServer.StartAsync();
        using var portal = new PortalBrowser(server);
        using var _ = await portal.SignInAsync("auditor");
        var service = server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditService>();
        var watermark = (await service.QueryAsync(new OpenSpe.Server.Audit.AuditQuery(Limit: 1, NewestFirst: true))).Single().Sequence;

        using var none = await portal.GetAsync("/audit");
        var noneHtml = WebUtility.HtmlDecode(await none.Content.ReadAsStringAsync());
        await server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditWriter>().SignCheckpointNowAsync(TestContext.Current.CancellationToken);
        var signed = (await service.CheckpointsAsync(TestContext.Current.CancellationToken))[^1];
        using var withCheckpoint = await portal.GetAsync("/audit");
        var checkpointHtml = WebUtility.HtmlDecode(await withCheckpoint.Content.ReadAsStringAsync());
        var newest = (await service.CheckpointsAsync(TestContext.Current.CancellationToken))[^1];

        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Contains("No verification of the audit chain has been recorded yet", ChainSection(noneHtml), StringComparison.Ordinal);
        Assert.DoesNotContain("Verified at", noneHtml, StringComparison.Ordinal);
        Assert.Contains("Verify the audit chain now", noneHtml, StringComparison.Ordinal);
        Assert.Empty(await service.QueryAsync(new OpenSpe.Server.Audit.AuditQuery(AfterSequence: watermark, Actions: ["audit.verify", "audit.verified"])));
        // Note: a periodic checkpoint may be signed between the reads; the page shows the newest one at its time.
        Assert.Matches($"sequence ({signed.Sequence} \\({signed.Kind}|{newest.Sequence} \\({newest.Kind}), key {signed.KeyId}\\), signed at <time", ChainSection(checkpointHtml));
    }

    /// <summary>
    /// Verifies the chain through the API and returns the verification the log now records last, so that what a page shows
    /// does not depend on what the other tests of this shared server did before.
    /// </summary>
    private async Task<AuditLastVerificationView> RecordVerificationAsync()
    {
        using var auditor = await Server.ClientForAccountAsync("auditor");
        using (var verify = await auditor.GetAsync("/api/v1/audit/verify", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        }

        return (await auditor.GetFromJsonAsync<AuditLastVerificationView>("/api/v1/audit/verifications/latest", TestContext.Current.CancellationToken))!;
    }

    private static string ChainSection(string html)
    {
        var start = html.IndexOf("id=\"chain-result\"", StringComparison.Ordinal);
        Assert.True(start >= 0, "the page has no #chain-result");
        return html[start..html.IndexOf("<form method=\"post\"", start, StringComparison.Ordinal)];
    }

    private async Task<long> HeadAsync() =>
        (await Server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditService>().QueryAsync(new OpenSpe.Server.Audit.AuditQuery(Limit: 1, NewestFirst: true))).Single().Sequence;

    private async Task<List<OpenSpe.Core.Audit.AuditRow>> RecordsAsync(long after, params string[] actions) =>
        await Server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditService>().QueryAsync(new OpenSpe.Server.Audit.AuditQuery(AfterSequence: after, Actions: actions));

    private static string? Detail(OpenSpe.Core.Audit.AuditRow row, string name) =>
        JsonDocument.Parse(row.DetailsJson).RootElement.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static string Section(string html, string id)
    {
        var start = html.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"the page has no #{id}");
        return html[start..html.IndexOf("</table>", start, StringComparison.Ordinal)];
    }

    private async Task<IReadOnlyList<AuditRecordView>> ExportRecordsAsync()
    {
        using var auditor = await Server.ClientForAccountAsync("auditor");
        var page = await auditor.GetFromJsonAsync<AuditRecordPage>("/api/v1/audit/records?action=audit.export&limit=1000", TestContext.Current.CancellationToken);
        return page!.Items;
    }

    private async Task<AuditRecordView> ClosedExportRecordAsync(long after)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var closed = (await ExportRecordsAsync()).FirstOrDefault(r => r.Sequence > after && Detail(r, "stream") == "closed");
            if (closed is not null)
            {
                return closed;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new Xunit.Sdk.XunitException($"no closed audit.export record after sequence {after}");
    }

    private static string? Detail(AuditRecordView record, string name) =>
        record.Details.ValueKind == JsonValueKind.Object && record.Details.TryGetProperty(name, out var value) ? value.GetString() : null;

    [GeneratedRegex("<tr>\\s*<th scope=\"row\">[A-Z]+-[0-9]+</th>")]
    private static partial Regex RowPattern();
}
