using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>
/// Permit changes made at the same time, and the people a permit names (EHDSR-1, EHDSR-10, OPR-1, SDR-1): the loser of two
/// changes at once is refused with a stable code and leaves nothing behind (no version, no project key); people are one
/// account whatever the case a name is written in; and a dataset another node holds makes nobody a member here. On SQLite
/// and PostgreSQL.
/// </summary>
public abstract class PermitChangeTests : IAsyncLifetime
{
    private const int Parallel = 8;

    private PermitFixture _f = null!;

    protected abstract TestBackend Backend { get; }

    private static DateTimeOffset Start => PermitFixture.Start;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync(backend: Backend);

    public async ValueTask DisposeAsync()
    {
        await _f.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    [Trait("Requirement", "TIR-10")]
    public async Task Amendments_at_the_same_time_answer_409_to_the_losers_and_keep_every_version_whole()
    {
        var (permitId, _) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var documents = Enumerable.Range(0, Parallel).Select(i =>
        {
            var document = PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30 + i));
            document["title"] = $"Amended title {i}";
            return document;
        }).ToList();

        var answers = await Task.WhenAll(documents.Select(d => hdab.PostAsJsonAsync($"/api/v1/permits/{permitId}/amendments", d)));
        var versions = await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}/versions");
        var permit = await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}");

        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"answered {(int)a.StatusCode}"));
        foreach (var loser in answers.Where(a => a.StatusCode == HttpStatusCode.Conflict))
        {
            Assert.Equal("SPE3003", (await Api.ProblemAssert.IsProblemAsync(loser, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        }

        var won = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
        Assert.True(won >= 1);
        Assert.Equal(Enumerable.Range(1, won + 1), versions.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal(won + 1, permit.GetProperty("version").GetInt32());
        await using var scope = _f.Server.Services.CreateAsyncScope();
        // The members are those of the one version in force: nobody twice.
        var members = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().PermitMembers.Where(m => m.PermitId == permitId).ToListAsync();
        Assert.Equal(3, members.Count);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    [Trait("Requirement", "TIR-8")]
    public async Task Issues_of_one_reference_at_the_same_time_make_one_permit_and_leave_no_other_key()
    {
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var document = PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30), reference: "HDAB-RACE-1");

        var answers = await Task.WhenAll(Enumerable.Range(0, Parallel).Select(_ => hdab.PostAsJsonAsync("/api/v1/permits", document)));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        foreach (var loser in answers.Where(a => a.StatusCode != HttpStatusCode.Created))
        {
            var problem = await Api.ProblemAssert.IsProblemAsync(loser, HttpStatusCode.BadRequest);
            Assert.Equal("SPE1002", problem.GetProperty("code").GetString());
            Assert.True(problem.GetProperty("errors").TryGetProperty("reference", out _));
        }

        await using var scope = _f.Server.Services.CreateAsyncScope();
        var projects = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Permits.Select(p => p.ProjectId).ToListAsync();
        Assert.Equal(projects.Order(), _f.Server.Services.GetRequiredService<IProjectKeyStore>().ListProjects().Order());
    }

    [Fact]
    [Trait("Requirement", "OPR-5")]
    public async Task Suspensions_at_the_same_time_suspend_once_and_answer_409_to_the_others()
    {
        var (permitId, _) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");

        var answers = await Task.WhenAll(Enumerable.Range(0, Parallel).Select(_ => hdab.PostAsJsonAsync($"/api/v1/permits/{permitId}/suspend", new { reason = "investigation" })));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        foreach (var loser in answers.Where(a => a.StatusCode != HttpStatusCode.OK))
        {
            Assert.Equal("SPE3003", (await Api.ProblemAssert.IsProblemAsync(loser, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        }

        Assert.Equal("suspended", await _f.StateAsync(permitId));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_person_listed_twice_in_another_case_is_refused_at_the_second_place()
    {
        var response = await _f.PostAsAsync("hdab", "/api/v1/permits", PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30), users: ["researcher", "RESEARCHER"]));

        var problem = await Api.ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(["this data user is listed twice."], problem.GetProperty("errors").GetProperty("dataUsers[1]").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-3")]
    [Trait("Requirement", "OPR-1")]
    public async Task An_amendment_that_only_spells_a_name_in_another_case_records_no_change_and_access_stays()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));

        var amended = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/amendments", PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30), users: ["RESEARCHER", "researcher2"]));
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var versions = await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}/versions");

        Assert.Equal(HttpStatusCode.OK, amended.StatusCode);
        Assert.Equal("no material change", versions[1].GetProperty("summary").GetString());
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", $"/api/v1/projects/{projectId}/datasets"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task A_person_named_in_another_case_reads_their_own_visas_and_nobody_else_does()
    {
        var (permitId, _) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30), users: ["RESEARCHER"]));
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        using var researcher2 = await _f.Server.ClientForAccountAsync("researcher2");

        var own = await researcher.GetAsync($"/api/v1/permits/{permitId}/visas");
        var others = await researcher2.GetAsync($"/api/v1/permits/{permitId}/visas");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Single((await own.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        Assert.True(others.StatusCode == HttpStatusCode.NotFound || (await others.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength() == 0);
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "OPR-1")]
    public async Task A_local_account_named_as_holder_of_another_nodes_dataset_is_not_a_member_here()
    {
        await _f.Server.EnsureAccountAsync("holder2", "data-holder");
        var document = PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30));
        document["datasets"] = new object[]
        {
            new { id = "omop-2026", title = "OMOP CDM extract", holder = "holder" },
            new { id = "ds-r", title = "Registry at another node", holder = "holder2", node = "elsewhere" },
        };
        var (_, projectId) = await _f.IssueAsync(document);
        using var holder2 = await _f.Server.ClientForAccountAsync("holder2");

        var project = await holder2.GetAsync($"/api/v1/projects/{projectId}");
        var key = await holder2.GetAsync($"/api/v1/projects/{projectId}/public-key");
        var list = await holder2.GetFromJsonAsync<JsonElement>("/api/v1/projects");

        Assert.Equal(HttpStatusCode.NotFound, project.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, key.StatusCode);
        Assert.Equal(0, list.GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("holder", $"/api/v1/projects/{projectId}"));
    }
}

public sealed class SqlitePermitChangeTests : PermitChangeTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresPermitChangeTests : PermitChangeTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}

/// <summary>A project key no permit names (an issue interrupted between the key and the permit's row) does not survive a restart (TIR-8).</summary>
public sealed class KeysWithoutPermitTests
{
    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task A_key_no_permit_names_is_destroyed_at_the_next_start_and_the_permits_keys_stay()
    {
        using var directory = new TempDirectory();
        var orphan = "prj-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        string projectId;
        await using (var server = await SpeTestServer.StartAsync(reuseDirectory: directory.Path))
        {
            using var hdab = await server.ClientForAccountAsync("hdab");
            var issued = await hdab.PostAsJsonAsync("/api/v1/permits", PermitFixture.Document(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
            projectId = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("projectId").GetString()!;
            // Arrange-only: the key an issue made just before the process died, its permit's row never saved.
            await server.Services.GetRequiredService<IProjectKeyStore>().CreateProjectKeyAsync(orphan);
        }

        await using var restarted = await SpeTestServer.StartAsync(reuseDirectory: directory.Path);
        var keys = restarted.Services.GetRequiredService<IProjectKeyStore>();

        Assert.False(await keys.ExistsAsync(orphan));
        Assert.True(await keys.ExistsAsync(projectId));
    }
}
