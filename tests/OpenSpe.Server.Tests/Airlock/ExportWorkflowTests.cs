using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Export requests end to end (EHDSR-12, EHDSR-13, FCR-6, SDR-1): files written by a real sandbox job to /outputs, frozen and
/// checked at submission, encrypted at rest, decided by independent output checkers, downloaded only once released.
/// </summary>
public sealed class ExportWorkflowTests : IAsyncLifetime
{
    private const string Table = "sex,yes,no\nf,12,15\nm,20,11\n";
    private const string SmallCell = "sex,yes,no\nf,3,15\nm,20,11\n";
    private const string Marker = "MARKER-7f3a-never-on-disk-in-clear";
    private static readonly object Description = new { outputs = new object[] { new { file = "t1.csv", kind = "frequency", labelColumns = new[] { "sex" } }, new { file = "notes.txt", kind = "text" } } };

    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync();

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private async Task<AirlockRequestView> SubmitTableAsync(string content = Table)
    {
        await _w.RunAsync($"printf '{content.Replace("\n", "\\n", StringComparison.Ordinal)}' > /outputs/t1.csv; printf 'Notes {Marker}\\n' > /outputs/notes.txt");
        return await _w.RequestOkAsync(new { files = new[] { "t1.csv", "notes.txt" }, reason = "results for the paper", description = Description });
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "FCR-6")]
    [Trait("Requirement", "OPR-16")]
    public async Task Two_independent_approvals_release_a_checked_file_which_then_downloads_with_its_hash()
    {
        var request = await SubmitTableAsync();

        Assert.Equal(AirlockStates.Pending, request.State);
        Assert.Equal(2, request.ReviewersRequired);
        Assert.Equal(["pass", "pass"], request.Files.Select(f => f.CheckStatus));
        var one = await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "aggregate, counts >= 10" });
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        // One approval is not enough when the permit says two.
        Assert.Equal(AirlockStates.Pending, (await _w.ShowAsync(request.Id)).Files[0].State);
        await ProblemAssert.IsProblemAsync(await _w.DownloadAsync(_w.Researcher, request.Id, "t1.csv"), HttpStatusCode.Conflict);

        var two = await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "agreed" });
        var download = await _w.DownloadAsync(_w.Researcher, request.Id, "t1.csv");

        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        var shown = await _w.ShowAsync(request.Id);
        Assert.Equal(AirlockStates.Decided, shown.State);
        Assert.All(shown.Files, f => Assert.Equal((AirlockStates.Approved, 2), (f.State, f.Approvals)));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(Table, Encoding.UTF8.GetString(bytes));
        Assert.Equal(TusClient.Sha256Hex(bytes), download.Headers.GetValues(AirlockProtocol.Sha256Header).Single());
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        var sha = TusClient.Sha256Hex(Encoding.UTF8.GetBytes(Table));
        Assert.Contains(records, r => r.Action == "export.requested" && r.DetailsJson.Contains(sha, StringComparison.Ordinal));
        Assert.Equal(2, records.Count(r => r.Action == "export.reviewed" && r.DetailsJson.Contains(sha, StringComparison.Ordinal)));
        Assert.Contains(records, r => r.Action == "export.released" && r.DetailsJson.Contains(sha, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Action == "export.downloaded" && r.DetailsJson.Contains(sha, StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.DetailsJson.Contains(Marker, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "EHDSR-12")]
    public async Task The_outbox_holds_ciphertext_only()
    {
        var request = await SubmitTableAsync();
        await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "ok" });
        await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "ok" });

        var store = (FileSystemObjectStore)_w.F.Server.Services.GetRequiredService<IObjectStore>();
        var notes = File.ReadAllBytes(Path.Combine(store.Root, FrozenFiles.KeyFor(_w.ProjectId, request.Id, 1)));
        var everything = Directory.EnumerateFiles(store.Root, "*", SearchOption.AllDirectories).Select(File.ReadAllBytes).ToList();

        Assert.Equal("crypt4gh"u8.ToArray(), notes[..8]);
        Assert.DoesNotContain(everything, b => Encoding.Latin1.GetString(b).Contains(Marker, StringComparison.Ordinal));
        // The intake's plaintext work copies are gone.
        var work = _w.F.Server.Services.GetRequiredService<OpenSpe.Server.Hosting.DataDirectory>().File("airlock-work");
        Assert.Empty(Directory.Exists(work) ? Directory.EnumerateFileSystemEntries(work) : []);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task A_file_changed_after_submission_changes_nothing_and_the_frozen_copy_is_released()
    {
        var request = await SubmitTableAsync();
        await _w.RunAsync("printf 'sex,yes,no\\nf,1,1\\n' > /outputs/t1.csv");

        await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "ok" });
        await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "ok" });
        var download = await _w.DownloadAsync(_w.Researcher, request.Id, "t1.csv");

        Assert.Equal(Table, await download.Content.ReadAsStringAsync());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-3")]
    public async Task A_frozen_copy_changed_at_rest_is_not_released()
    {
        var request = await SubmitTableAsync();
        await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "ok" });
        await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "ok" });
        // Someone with access to the object store swaps the approved file for another, validly encrypted to the project key.
        var key = await new TusClient(_w.Researcher, _w.ProjectId).ProjectKeyAsync();
        var objects = _w.F.Server.Services.GetRequiredService<IObjectStore>();
        await objects.PutAsync(FrozenFiles.KeyFor(_w.ProjectId, request.Id, 0), new MemoryStream(TusClient.Encrypt("sex,yes\nf,1\n"u8.ToArray(), key)), TestContext.Current.CancellationToken);

        var download = await _w.DownloadAsync(_w.Researcher, request.Id, "t1.csv");

        var problem = await ProblemAssert.IsProblemAsync(download, HttpStatusCode.InternalServerError);
        Assert.Equal(ErrorCodes.AirlockIntegrity, problem.GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task A_rejected_file_cannot_be_downloaded_or_approved_later()
    {
        var request = await SubmitTableAsync();

        var reject = await _w.ReviewAsync("checker", request.Id, new { file = "notes.txt", decision = "reject", comment = "free text can disclose" });
        var later = await _w.ReviewAsync("checker2", request.Id, new { file = "notes.txt", decision = "approve", comment = "fine" });
        await _w.ReviewAsync("checker2", request.Id, new { file = "t1.csv", decision = "approve", comment = "ok" });
        await _w.ReviewAsync("checker", request.Id, new { file = "t1.csv", decision = "approve", comment = "ok" });

        Assert.Equal(HttpStatusCode.OK, reject.StatusCode);
        Assert.Equal(ErrorCodes.AirlockNotPending, (await ProblemAssert.IsProblemAsync(later, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(ErrorCodes.AirlockNotReleased, (await ProblemAssert.IsProblemAsync(await _w.DownloadAsync(_w.Researcher, request.Id, "notes.txt"), HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _w.DownloadAsync(_w.Researcher, request.Id, "t1.csv")).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task A_failed_check_is_approved_only_with_an_override_from_each_checker()
    {
        var request = await SubmitTableAsync(SmallCell);
        Assert.Equal("fail", request.Files[0].CheckStatus);
        Assert.Equal("fail", request.CheckStatus);

        var bare = await _w.ReviewAsync("checker", request.Id, new { file = "t1.csv", decision = "approve", comment = "looks fine" });
        var first = await _w.ReviewAsync("checker", request.Id, new { file = "t1.csv", decision = "approve", comment = "ok", @override = "3 is a structural count of sites, not people" });
        var second = await _w.ReviewAsync("checker2", request.Id, new { file = "t1.csv", decision = "approve", comment = "ok" });

        Assert.Equal(ErrorCodes.AirlockOverrideRequired, (await ProblemAssert.IsProblemAsync(bare, HttpStatusCode.UnprocessableEntity)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(1, (await _w.ShowAsync(request.Id)).Files[0].Approvals);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "SDR-2")]
    public async Task Members_never_review_and_changes_send_the_request_back()
    {
        var request = await SubmitTableAsync();
        // researcher3 is named in the permit and also holds the output-checker role: still a member, so never a reviewer.
        var own = await _w.ReviewAsync("researcher", request.Id, new { decision = "approve", comment = "mine" });
        var member = await _w.ReviewAsync("researcher2", request.Id, new { decision = "approve", comment = "colleague" });
        var memberChecker = await _w.ReviewAsync("researcher3", request.Id, new { decision = "approve", comment = "checker and member" });
        var changes = await _w.ReviewAsync("checker", request.Id, new { decision = "changes", comment = "round to 5 first" });
        var afterChanges = await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "too late" });

        await ProblemAssert.IsProblemAsync(own, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(member, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(memberChecker, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, changes.StatusCode);
        await ProblemAssert.IsProblemAsync(afterChanges, HttpStatusCode.Conflict);
        var shown = await _w.ShowAsync(request.Id);
        Assert.Equal(AirlockStates.ChangesRequested, shown.State);
        Assert.All(shown.Files, f => Assert.Equal(AirlockStates.Pending, f.State));
        Assert.Equal(["checker", "checker"], shown.Reviews.Select(r => r.Reviewer));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "EHDSR-12")]
    public async Task Only_the_projects_researchers_download_released_files()
    {
        var request = await SubmitTableAsync();
        await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "ok" });
        await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "ok" });
        using var stranger = await _w.F.Server.ClientAsAsync("stranger", "researcher");
        using var holder = await _w.F.Server.ClientForAccountAsync("holder");
        using var checker = await _w.F.Server.ClientForAccountAsync("checker");
        using var hdab = await _w.F.Server.ClientForAccountAsync("hdab");
        using var researcher2 = await _w.F.Server.ClientForAccountAsync("researcher2");

        await ProblemAssert.IsProblemAsync(await _w.DownloadAsync(stranger, request.Id, "t1.csv"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await _w.DownloadAsync(holder, request.Id, "t1.csv"), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await _w.DownloadAsync(checker, request.Id, "t1.csv"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await _w.DownloadAsync(hdab, request.Id, "t1.csv"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await _w.DownloadAsync(researcher2, request.Id, "t1.csv")).StatusCode);
    }

    [Theory]
    [InlineData("halt")]
    [InlineData("suspend")]
    [InlineData("revoke")]
    [InlineData("expire")]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task A_halt_suspension_revocation_or_expiry_freezes_pending_requests(string change)
    {
        var request = await SubmitTableAsync();
        await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "ok" });
        var expected = change == "halt" ? HttpStatusCode.Locked : HttpStatusCode.Forbidden;
        switch (change)
        {
            case "halt":
                Assert.Equal(HttpStatusCode.Created, (await _w.F.PostAsAsync("operator", "/api/v1/halts", new { projectId = _w.ProjectId, reason = "incident" })).StatusCode);
                break;
            case "expire":
                _w.F.Clock.Advance(TimeSpan.FromDays(31));
                break;
            default:
                Assert.Equal(HttpStatusCode.OK, (await _w.F.PostAsAsync("hdab", $"/api/v1/permits/{_w.PermitId}/{change}", new { reason = "investigation" })).StatusCode);
                break;
        }

        var review = await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "ok" });
        // A fresh sign-in: after the clock moved past the permit's end, the earlier token has expired too.
        using var researcher = await _w.F.Server.ClientForAccountAsync("researcher");
        var download = await _w.DownloadAsync(researcher, request.Id, "t1.csv");

        await ProblemAssert.IsProblemAsync(review, expected);
        await ProblemAssert.IsProblemAsync(download, expected);
        using var scope = _w.F.Server.Services.CreateScope();
        var database = scope.ServiceProvider.GetRequiredService<OpenSpe.Server.Persistence.SpeDbContext>();
        Assert.Equal(1, database.AirlockReviews.Count(r => r.RequestId == request.Id && r.FileName == "t1.csv"));
    }

    [Theory]
    [InlineData("""{"files": [], "reason": "x"}""")]
    [InlineData("""{"files": ["../etc/passwd"], "reason": "x"}""")]
    [InlineData("""{"files": ["a/b.csv"], "reason": "x"}""")]
    [InlineData("""{"files": [".hidden"], "reason": "x"}""")]
    [InlineData("""{"files": ["t1.csv", "t1.csv"], "reason": "x"}""")]
    [InlineData("""{"files": ["t1.csv"]}""")]
    [InlineData("""{"files": ["t1.csv"], "reason": "x", "description": {"outputs": [{"file": "t1.csv", "kind": "nonsense"}]}}""")]
    [InlineData("""{"files": ["t1.csv"], "reason": "x", "extra": 1}""")]
    [Trait("Requirement", "SDR-1")]
    public async Task Malformed_requests_are_400_and_change_nothing(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await _w.Researcher.PostAsync(_w.Exports, content);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Empty((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(_w.Exports, JsonSerializerOptions.Web))!);
    }

    [Theory]
    [InlineData("""{"decision": "maybe", "comment": "x"}""")]
    [InlineData("""{"decision": "approve"}""")]
    [InlineData("""{"decision": "approve", "comment": ""}""")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task Malformed_reviews_are_400_and_change_nothing(string body)
    {
        var request = await SubmitTableAsync();
        using var checker = await _w.F.Server.ClientForAccountAsync("checker");
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await checker.PostAsync($"{_w.Exports}/{request.Id}/reviews", content);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Empty((await _w.ShowAsync(request.Id)).Reviews);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task The_hdab_and_checkers_list_every_export_with_its_decisions_and_members_do_not()
    {
        var request = await SubmitTableAsync();
        await _w.ReviewAsync("checker", request.Id, new { file = "notes.txt", decision = "reject", comment = "no" });
        using var hdab = await _w.F.Server.ClientForAccountAsync("hdab");
        using var checker = await _w.F.Server.ClientForAccountAsync("checker");

        var all = await hdab.GetFromJsonAsync<List<AirlockRequestView>>("/api/v1/exports", JsonSerializerOptions.Web);

        var listed = Assert.Single(all!);
        Assert.Equal((request.Id, _w.ProjectId), (listed.Id, listed.ProjectId));
        Assert.Equal("reject", Assert.Single(listed.Reviews).Decision);
        await ProblemAssert.IsProblemAsync(await _w.Researcher.GetAsync("/api/v1/exports"), HttpStatusCode.Forbidden);
        Assert.Single((await checker.GetFromJsonAsync<List<AirlockRequestView>>("/api/v1/exports", JsonSerializerOptions.Web))!);
        using var holder = await _w.F.Server.ClientForAccountAsync("holder");
        await ProblemAssert.IsProblemAsync(await holder.GetAsync("/api/v1/exports"), HttpStatusCode.Forbidden);
    }
}
