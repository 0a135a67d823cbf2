using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Airlock;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// Import requests in the portal (SPER-3, TIR-22), on the real sandbox: a researcher chooses files and a justification, the page
/// relays them to the API as multipart, a checker named in no role of the permit finds the request in <c>/review/imports</c> and
/// approves it, and the file is read-only in <c>/project/imports</c>. Every refusal is the API's: a non-member its 404 with no
/// trace, a halted project its 423 and banner, an oversight role a 403 in words, a malformed form its field errors.
/// </summary>
public sealed class PortalImportPagesTests : IAsyncLifetime
{
    private const string Script = "print('cohort helper v1')\n";
    private const string Reference = "code,label\nE11,Type 2 diabetes\n";
    private const string Justification = "The cohort helper and the ICD-10 labels the analysis plan names.";
    private AirlockSandbox _w = null!;

    // Note: 3 MiB, so a form can be over the API's own request limit (1 MiB) and under the import's, or over both.
    private const long ImportLimit = 3L << 20;

    public async ValueTask InitializeAsync() =>
        _w = await AirlockSandbox.StartAsync(new Dictionary<string, string?> { ["Airlock:MaxImportRequestBytes"] = ImportLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private string Project => _w.ProjectId;

    private string ImportsApi => $"/api/v1/projects/{Project}/imports";

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "TIR-22")]
    public async Task A_researcher_brings_two_files_in_a_checker_approves_them_in_the_queue_and_they_land_read_only()
    {
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var projectPage = await researcher.GetAsync($"/projects/{Project}");
        using var page = await researcher.GetAsync($"/projects/{Project}/imports");
        var html = await page.Content.ReadAsStringAsync();

        using var created = await SubmitImportAsync(researcher, html, Justification, ("helper.py", Script), ("labels.csv", Reference));
        Assert.True(created.StatusCode == HttpStatusCode.Redirect, await created.Content.ReadAsStringAsync());
        var requestId = researcher.Browser.Location(created).Segments[^1];
        using var pending = await researcher.Browser.FollowAsync(created);
        var pendingHtml = await pending.Content.ReadAsStringAsync();
        using var list = await researcher.GetAsync($"/projects/{Project}/imports");
        var listHtml = await list.Content.ReadAsStringAsync();

        using var checker = new PortalBrowser(_w.F.Server);
        using var __ = await checker.SignInAsync("checker");
        using var queue = await checker.GetAsync("/review/imports");
        var queueHtml = await queue.Content.ReadAsStringAsync();
        using var review = await checker.GetAsync($"/review/imports/{Project}/{requestId}");
        var reviewHtml = await review.Content.ReadAsStringAsync();
        using var decided = await checker.SubmitAsync(reviewHtml, $"/review/imports/{Project}/{requestId}?handler=Decide",
            ("decision", "approve"), ("comment", "Plain Python and a code list, nothing personal."));
        Assert.True(decided.StatusCode == HttpStatusCode.Redirect, await decided.Content.ReadAsStringAsync());
        using var afterReview = await checker.Browser.FollowAsync(decided);
        var afterReviewHtml = await afterReview.Content.ReadAsStringAsync();
        using var shown = await researcher.GetAsync($"/projects/{Project}/imports/{requestId}");
        var shownHtml = await shown.Content.ReadAsStringAsync();
        var inside = await _w.RunAsync($"cat /project/imports/{requestId}/helper.py; (echo x >> /project/imports/{requestId}/labels.csv) 2>/dev/null && echo writable || echo read-only");

        Assert.Contains($"href=\"/projects/{Project}/imports\"", await projectPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("enctype=\"multipart/form-data\"", html, StringComparison.Ordinal);
        Assert.Contains("type=\"file\" id=\"files\" name=\"files\" multiple required", html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("<dd id=\"import-state\">pending</dd>", pendingHtml, StringComparison.Ordinal);
        Assert.Contains(Sha256(Script), pendingHtml, StringComparison.Ordinal);
        Assert.Contains(Sha256(Reference), pendingHtml, StringComparison.Ordinal);
        Assert.Contains($"{Encoding.UTF8.GetByteCount(Reference)} bytes", pendingHtml, StringComparison.Ordinal);
        Assert.Contains(Justification, pendingHtml, StringComparison.Ordinal);
        Assert.Contains($"/project/imports/{requestId}/", pendingHtml, StringComparison.Ordinal);
        Assert.Contains($"href=\"/projects/{Project}/imports/{requestId}\"", listHtml, StringComparison.Ordinal);
        Assert.Contains("helper.py, labels.csv", listHtml, StringComparison.Ordinal);
        Assert.Contains($"href=\"/review/imports/{Project}/{requestId}\"", queueHtml, StringComparison.Ordinal);
        Assert.Contains(Justification, reviewHtml, StringComparison.Ordinal);
        Assert.Contains("value=\"approve\"", reviewHtml, StringComparison.Ordinal);
        Assert.Contains("id=\"not-offered\"", afterReviewHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=Decide", afterReviewHtml, StringComparison.Ordinal);
        Assert.Contains($"<code>/project/imports/{requestId}/helper.py</code>", shownHtml, StringComparison.Ordinal);
        Assert.Contains($"<code>/project/imports/{requestId}/labels.csv</code>", shownHtml, StringComparison.Ordinal);
        Assert.Contains("Plain Python and a code list, nothing personal.", shownHtml, StringComparison.Ordinal);
        Assert.Equal(Script + "read-only\n", inside);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task A_checker_named_in_the_permit_is_never_offered_its_imports_and_the_api_refuses_the_decision_anyway()
    {
        // researcher3 is a researcher of this permit who also holds the output-checker role.
        var requestId = await ImportByApiAsync(await _w.F.Server.ClientForAccountAsync("researcher3"));
        using var member = new PortalBrowser(_w.F.Server);
        using var _ = await member.SignInAsync("researcher3");
        using var queue = await member.GetAsync("/review/imports");
        var queueHtml = await queue.Content.ReadAsStringAsync();
        using var review = await member.GetAsync($"/review/imports/{Project}/{requestId}");
        var reviewHtml = await review.Content.ReadAsStringAsync();

        // The form is not there; a decision posted anyway (with a valid token from the same page) is the API's refusal.
        using var forced = await member.SubmitAsync(reviewHtml, $"/review/imports/{Project}/{requestId}?handler=Decide", ("decision", "approve"), ("comment", "fine"));
        var forcedHtml = await forced.Content.ReadAsStringAsync();
        var after = await _w.Researcher.GetFromJsonAsync<AirlockRequestView>($"{ImportsApi}/{requestId}", JsonSerializerOptions.Web);

        Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
        Assert.DoesNotContain(requestId, queueHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        Assert.Contains("You are named in this project&#x27;s permit", reviewHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=Decide", reviewHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, forced.StatusCode);
        Assert.Contains("banner bad", forcedHtml, StringComparison.Ordinal);
        Assert.Empty(after!.Reviews);
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("operator")]
    [InlineData("auditor")]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "SDR-2")]
    public async Task An_oversight_role_that_reads_the_project_is_refused_its_imports_in_words(string username)
    {
        var requestId = await ImportByApiAsync(_w.Researcher);
        using var portal = new PortalBrowser(_w.F.Server);
        using var _ = await portal.SignInAsync(username);

        using var list = await portal.GetAsync($"/projects/{Project}/imports");
        var listHtml = await list.Content.ReadAsStringAsync();
        using var one = await portal.GetAsync($"/projects/{Project}/imports/{requestId}");
        var oneHtml = await one.Content.ReadAsStringAsync();

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (list.StatusCode, one.StatusCode));
        Assert.All(new[] { listHtml, oneHtml }, h => Assert.Contains("shown to its researchers and data holders only", h, StringComparison.Ordinal));
        Assert.All(new[] { listHtml, oneHtml }, h => Assert.DoesNotContain("helper.py", h, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "SDR-1")]
    public async Task A_non_member_gets_the_apis_404_with_no_trace_and_only_output_checkers_have_a_queue()
    {
        var requestId = await ImportByApiAsync(_w.Researcher);
        await _w.F.Server.EnsureAccountAsync("outsider", "researcher");
        using var outsider = new PortalBrowser(_w.F.Server);
        using var _ = await outsider.SignInAsync("outsider");

        using var list = await outsider.GetAsync($"/projects/{Project}/imports");
        using var one = await outsider.GetAsync($"/projects/{Project}/imports/{requestId}");
        using var review = await outsider.GetAsync($"/review/imports/{Project}/{requestId}");
        using var queue = await outsider.GetAsync("/review/imports");
        var pages = new[] { await list.Content.ReadAsStringAsync(), await one.Content.ReadAsStringAsync(), await review.Content.ReadAsStringAsync(), await queue.Content.ReadAsStringAsync() };
        using var forged = await outsider.SubmitAsync(pages[0], $"/projects/{Project}/imports?handler=Create", ("reason", "let me in"));

        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, one.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, review.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, queue.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        Assert.All(pages, h => Assert.DoesNotContain("HDAB-FI-2026-0042", h, StringComparison.Ordinal));
        Assert.All(pages, h => Assert.DoesNotContain("helper.py", h, StringComparison.Ordinal));
        Assert.All(pages, h => Assert.DoesNotContain(Sha256(Script), h, StringComparison.Ordinal));
        Assert.DoesNotContain("/review/imports", pages[0], StringComparison.Ordinal);
        Assert.Single((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(ImportsApi, JsonSerializerOptions.Web))!);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "SPER-3")]
    public async Task A_halted_project_shows_the_halted_banner_and_nothing_can_be_asked_or_decided()
    {
        var requestId = await ImportByApiAsync(_w.Researcher);
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var before = await researcher.GetAsync($"/projects/{Project}/imports");
        var beforeHtml = await before.Content.ReadAsStringAsync();
        using var checker = new PortalBrowser(_w.F.Server);
        using var __ = await checker.SignInAsync("checker");
        using var reviewBefore = await checker.GetAsync($"/review/imports/{Project}/{requestId}");
        var reviewBeforeHtml = await reviewBefore.Content.ReadAsStringAsync();

        using var halt = await _w.F.PostAsAsync("operator", "/api/v1/halts", new { projectId = Project, reason = "suspected exfiltration" });
        using var list = await researcher.GetAsync($"/projects/{Project}/imports");
        var listHtml = await list.Content.ReadAsStringAsync();
        using var created = await SubmitImportAsync(researcher, beforeHtml, Justification, ("helper.py", Script));
        using var review = await checker.GetAsync($"/review/imports/{Project}/{requestId}");
        using var decided = await checker.SubmitAsync(reviewBeforeHtml, $"/review/imports/{Project}/{requestId}?handler=Decide", ("decision", "approve"), ("comment", "fine"));
        var decidedHtml = await decided.Content.ReadAsStringAsync();
        // Note: the queue's route is not project-scoped, so it still reads the halted project's requests.
        using var queueReader = await _w.F.Server.ClientForAccountAsync("checker");
        var after = (await queueReader.GetFromJsonAsync<List<AirlockRequestView>>("/api/v1/imports", JsonSerializerOptions.Web))!.Where(r => r.ProjectId == Project).ToList();

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal((HttpStatusCode)423, list.StatusCode);
        Assert.Contains("banner halted", listHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("helper.py", listHtml, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode)423, created.StatusCode);
        Assert.Equal((HttpStatusCode)423, review.StatusCode);
        Assert.Equal((HttpStatusCode)423, decided.StatusCode);
        Assert.Contains("banner halted", decidedHtml, StringComparison.Ordinal);
        Assert.Single(after);
        Assert.Empty(after[0].Reviews);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task A_disabled_person_is_sent_to_sign_in_and_their_import_is_not_made()
    {
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher2");
        using var page = await researcher.GetAsync($"/projects/{Project}/imports");
        var html = await page.Content.ReadAsStringAsync();
        using var admin = await _w.F.Server.ClientForAccountAsync("admin");
        using var disabled = await admin.PostAsync("/api/v1/admin/users/researcher2/disable", null);

        using var created = await SubmitImportAsync(researcher, html, Justification, ("helper.py", Script));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal("/portal/signin", researcher.Browser.Location(created).AbsolutePath);
        Assert.Empty((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(ImportsApi, JsonSerializerOptions.Web))!);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task A_form_without_the_anti_forgery_token_is_refused_with_400_and_makes_nothing()
    {
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var body = new MultipartFormDataContent { { new StringContent(Justification), "reason" }, { File(Script), "files", "helper.py" } };

        using var created = await researcher.Browser.Http.PostAsync($"/projects/{Project}/imports?handler=Create", body);

        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.Empty((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(ImportsApi, JsonSerializerOptions.Web))!);
    }

    [Theory]
    [InlineData("no-file", 400, "files-error", "Send 1 to 50 files.")]
    [InlineData("no-justification", 400, "reason-error", "Give a reason of 1 to 2000 characters.")]
    [InlineData("type", 422, "role=\"alert\">&#x27;tool.sh&#x27; cannot come in", "")]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "TIR-5")]
    public async Task A_malformed_form_is_refused_with_the_apis_sentence_at_its_field_and_makes_nothing(string kind, int status, string where, string sentence)
    {
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var page = await researcher.GetAsync($"/projects/{Project}/imports");
        var html = await page.Content.ReadAsStringAsync();

        using var refused = kind switch
        {
            "no-file" => await SubmitImportAsync(researcher, html, Justification),
            "no-justification" => await SubmitImportAsync(researcher, html, "", ("helper.py", Script)),
            _ => await SubmitImportAsync(researcher, html, Justification, ("tool.sh", "echo hi\n")),
        };
        var refusedHtml = await refused.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)refused.StatusCode);
        Assert.Contains(where, refusedHtml, StringComparison.Ordinal);
        Assert.Contains(sentence, refusedHtml, StringComparison.Ordinal);
        if (kind != "no-justification")
        {
            // The justification typed stays in its field.
            Assert.Contains(Justification, refusedHtml, StringComparison.Ordinal);
        }

        Assert.Empty((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(ImportsApi, JsonSerializerOptions.Web))!);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task Files_over_the_APIs_request_limit_come_in_and_files_over_the_imports_limit_are_refused_in_words_and_make_nothing()
    {
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");
        using var page = await researcher.GetAsync($"/projects/{Project}/imports");
        var html = await page.Content.ReadAsStringAsync();
        var large = "code,label\n" + new string('x', 2 << 20);

        using var taken = await SubmitImportAsync(researcher, html, Justification, ("large.csv", large));
        using var refused = await SubmitImportAsync(researcher, html, Justification, ("big.csv", large), ("bigger.csv", large));
        var refusedHtml = await refused.Content.ReadAsStringAsync();

        Assert.Contains("all of them together at most 3,145,728 bytes", html, StringComparison.Ordinal);
        Assert.True(taken.StatusCode == HttpStatusCode.Redirect, await taken.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("id=\"files-error\" class=\"field-error\" role=\"alert\">The files together are larger than an import request may carry (3,145,728 bytes)", refusedHtml, StringComparison.Ordinal);
        var listed = Assert.Single((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(ImportsApi, JsonSerializerOptions.Web))!);
        Assert.Equal((Sha256(large), (long)Encoding.UTF8.GetByteCount(large)), (listed.Files[0].Sha256, listed.Files[0].Size));
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "TIR-22")]
    public async Task An_approved_file_that_could_not_be_placed_says_why_and_is_placed_again_from_the_page_once_the_cause_is_gone()
    {
        await _w.RunAsync("ln -s /outputs /project/imports");
        var requestId = await ImportByApiAsync(_w.Researcher);
        using var checker = await _w.F.Server.ClientForAccountAsync("checker");
        Assert.Equal(HttpStatusCode.OK, (await checker.PostAsJsonAsync($"{ImportsApi}/{requestId}/reviews", new { decision = "approve", comment = "ok" })).StatusCode);
        using var researcher = new PortalBrowser(_w.F.Server);
        using var _ = await researcher.SignInAsync("researcher");

        using var failed = await researcher.GetAsync($"/projects/{Project}/imports/{requestId}");
        var failedHtml = await failed.Content.ReadAsStringAsync();
        using var stillThere = await researcher.SubmitAsync(failedHtml, $"/projects/{Project}/imports/{requestId}?handler=Place");
        using var stillFailed = await researcher.Browser.FollowAsync(stillThere);
        await _w.RunAsync("rm /project/imports");
        using var placed = await researcher.SubmitAsync(failedHtml, $"/projects/{Project}/imports/{requestId}?handler=Place");
        using var after = await researcher.Browser.FollowAsync(placed);
        var afterHtml = await after.Content.ReadAsStringAsync();
        using var again = await researcher.SubmitAsync(failedHtml, $"/projects/{Project}/imports/{requestId}?handler=Place");
        var againHtml = await again.Content.ReadAsStringAsync();

        Assert.Contains("<li data-placement=\"failed\">", failedHtml, StringComparison.Ordinal);
        Assert.Contains("approved, but not placed.</strong> &#x27;imports&#x27; is a symbolic link", failedHtml, StringComparison.Ordinal);
        Assert.Contains("handler=Place", failedHtml, StringComparison.Ordinal);
        Assert.Contains("<li data-placement=\"failed\">", await stillFailed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains($"<li data-placement=\"placed\"><code>/project/imports/{requestId}/helper.py</code></li>", afterHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=Place", afterHtml, StringComparison.Ordinal);
        Assert.Equal(Script, await _w.RunAsync($"cat /project/imports/{requestId}/helper.py"));
        // A stale page's button, pressed once more: the API's conflict in words above the request, nothing placed twice.
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("has no approved file waiting to be placed", againHtml, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task A_signed_out_browser_is_sent_to_sign_in_and_gets_nothing()
    {
        var requestId = await ImportByApiAsync(_w.Researcher);
        using var portal = new PortalBrowser(_w.F.Server);

        using var list = await portal.GetAsync($"/projects/{Project}/imports");
        using var queue = await portal.GetAsync($"/review/imports/{Project}/{requestId}");

        Assert.Equal((HttpStatusCode.Redirect, HttpStatusCode.Redirect), (list.StatusCode, queue.StatusCode));
        Assert.Equal("/portal/signin", portal.Browser.Location(list).AbsolutePath);
        Assert.DoesNotContain("helper.py", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Submits the import form of <paramref name="html"/> as a browser does: multipart, with its anti-forgery token and the chosen files.</summary>
    private Task<HttpResponseMessage> SubmitImportAsync(PortalBrowser portal, string html, string reason, params (string Name, string Content)[] files)
    {
        var body = new MultipartFormDataContent
        {
            { new StringContent(PortalBrowser.AntiforgeryToken(html)), "__RequestVerificationToken" },
            { new StringContent(reason), "reason" },
        };
        foreach (var (name, content) in files)
        {
            body.Add(File(content), "files", name);
        }

        return portal.Browser.Http.PostAsync($"/projects/{Project}/imports?handler=Create", body);
    }

    private async Task<string> ImportByApiAsync(HttpClient client)
    {
        using var body = new MultipartFormDataContent { { new StringContent(Justification), "reason" }, { File(Script), "files", "helper.py" } };
        using var response = await client.PostAsync(ImportsApi, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonSerializer.Deserialize<AirlockRequestView>(text, JsonSerializerOptions.Web)!.Id;
    }

    private static ByteArrayContent File(string content)
    {
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return file;
    }

    private static string Sha256(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
}
