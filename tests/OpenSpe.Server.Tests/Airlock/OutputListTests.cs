using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// <c>GET /api/v1/projects/{projectId}/outputs</c> (EHDSR-12): the files a real sandbox job wrote to /outputs, for
/// exactly the people who may ask for their export; a link out of /outputs is neither listed nor followed, and the listing is bounded.
/// </summary>
public sealed class OutputListTests : IAsyncLifetime
{
    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync();

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private string Outputs => $"/api/v1/projects/{_w.ProjectId}/outputs";

    private async Task<HttpResponseMessage> GetAsAsync(string account, string path)
    {
        using var client = await _w.F.Server.ClientForAccountAsync(account);
        return await client.GetAsync(path);
    }

    private async Task<OutputListView> ListAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Outputs);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<OutputListView>(text, JsonSerializerOptions.Web)!;
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    public async Task A_researcher_sees_the_files_a_job_wrote_with_size_and_time_and_can_request_one_by_its_listed_name()
    {
        Assert.Empty((await ListAsync(_w.Researcher)).Files);
        await _w.RunAsync("printf 'sex,yes,no\\nf,12,15\\nm,20,11\\n' > /outputs/t1.csv; mkdir -p /outputs/sub && printf 'hello\\n' > /outputs/sub/notes.txt; "
            + "printf 'x' > /outputs/.hidden; mkfifo /outputs/pipe.csv");

        using var response = await _w.Researcher.GetAsync(Outputs, TestContext.Current.CancellationToken);
        var raw = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var listing = JsonSerializer.Deserialize<OutputListView>(raw, JsonSerializerOptions.Web)!;
        var request = await _w.RequestOkAsync(listing.Files[1].Name);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["sub/notes.txt", "t1.csv"], listing.Files.Select(f => f.Name));
        Assert.Equal([6L, 27L], listing.Files.Select(f => f.Size));
        Assert.All(listing.Files, f => Assert.True(f.Modified > DateTimeOffset.UnixEpoch));
        Assert.Contains("\"modified\":\"", raw, StringComparison.Ordinal);
        Assert.Contains("+00:00\"", raw, StringComparison.Ordinal);
        Assert.False(listing.Truncated);
        Assert.Equal(ExportEndpoints.MaxListedOutputs, listing.Limit);
        Assert.Equal("t1.csv", Assert.Single(request.Files).Name);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "outputs.list" && r.HttpStatus == 200 && r.ResourceType == "outputs" && r.ProjectId == _w.ProjectId);
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    public async Task A_symbolic_link_out_of_outputs_is_neither_listed_nor_followed()
    {
        await _w.RunAsync("printf 'a\\n' > /outputs/mine.txt; ln -s /etc /outputs/etc; ln -s /etc/passwd /outputs/passwd.txt; ln -s /outputs/mine.txt /outputs/again.txt; "
            + $"mkdir -p /outputs/deep; ln -s {_w.Root} /outputs/deep/root");

        var listing = await ListAsync(_w.Researcher);

        Assert.Equal(["mine.txt"], listing.Files.Select(f => f.Name));
        Assert.False(listing.Truncated);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    public async Task The_listing_stops_at_its_bound_and_at_the_depth_an_export_name_may_have_and_says_so()
    {
        await _w.RunAsync("mkdir -p /outputs/a/b/c/d/e/f/g && printf 'x' > /outputs/a/b/c/d/e/f/g/eight.txt && mkdir -p /outputs/a/b/c/d/e/f/g/h && printf 'x' > /outputs/a/b/c/d/e/f/g/h/nine.txt");
        var depth = await ListAsync(_w.Researcher);
        await _w.RunAsync("mkdir -p /outputs/many && cd /outputs/many && i=0; while [ $i -lt 1005 ]; do : > f$i.txt; i=$((i+1)); done");

        var many = await ListAsync(_w.Researcher);

        Assert.Equal(["a/b/c/d/e/f/g/eight.txt"], depth.Files.Select(f => f.Name));
        Assert.True(depth.Truncated);
        Assert.Equal(ExportEndpoints.MaxListedOutputs, many.Files.Count);
        Assert.True(many.Truncated);
        Assert.Equal(many.Files.Select(f => f.Name).Order(StringComparer.Ordinal), many.Files.Select(f => f.Name));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "OPR-20")]
    public async Task Only_the_projects_researchers_see_it_not_a_holder_checker_oversight_role_or_stranger_and_nobody_while_halted()
    {
        await _w.RunAsync("printf 'a\\n' > /outputs/mine.txt");
        using var stranger = await _w.F.Server.ClientAsAsync("stranger", "researcher");

        var member = await ListAsync(await _w.F.Server.ClientForAccountAsync("researcher2"));
        using var holder = await GetAsAsync("holder", Outputs);
        using var checker = await GetAsAsync("checker", Outputs);
        using var memberChecker = await GetAsAsync("researcher3", Outputs);
        using var hdab = await GetAsAsync("hdab", Outputs);
        using var operatorAnswer = await GetAsAsync("operator", Outputs);
        using var auditor = await GetAsAsync("auditor", Outputs);
        using var admin = await GetAsAsync("admin", Outputs);
        using var strangerAnswer = await stranger.GetAsync(Outputs);
        using var anonymous = await _w.F.Server.Client.GetAsync(Outputs);
        using var malformed = await _w.Researcher.GetAsync("/api/v1/projects/..%2F..%2Fetc/outputs");
        using var unknown = await _w.Researcher.GetAsync("/api/v1/projects/no-such-project/outputs");
        Assert.Equal(HttpStatusCode.Created, (await _w.F.PostAsAsync("operator", "/api/v1/halts", new { projectId = _w.ProjectId, reason = "incident" })).StatusCode);
        using var halted = await _w.Researcher.GetAsync(Outputs);

        Assert.Equal(["mine.txt"], member.Files.Select(f => f.Name));
        Assert.Equal(HttpStatusCode.OK, memberChecker.StatusCode);
        await ProblemAssert.IsProblemAsync(holder, HttpStatusCode.Forbidden);
        foreach (var hidden in new[] { checker, hdab, operatorAnswer, auditor, admin, strangerAnswer, malformed, unknown })
        {
            await ProblemAssert.IsProblemAsync(hidden, HttpStatusCode.NotFound);
            Assert.DoesNotContain("mine.txt", await hidden.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await ProblemAssert.IsProblemAsync(halted, HttpStatusCode.Locked);
        Assert.DoesNotContain("mine.txt", await halted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}
