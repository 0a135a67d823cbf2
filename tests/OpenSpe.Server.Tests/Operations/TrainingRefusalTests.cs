using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// The refusals of training that gates access (OPR-23), with <c>Training:Required</c> on: a person without a record is
/// refused at the project with SPE8200 and whom to ask, on the API, job, desktop and terminal paths alike; every other role,
/// one's own record, malformed dates and unknown roles or accounts are refused with nothing recorded. Note: nothing here
/// records training, so the cases share one server per database (<see cref="TrainingServer"/>); the cases that do record
/// are in <see cref="TrainingGateTests"/>, a server each.
/// </summary>
public abstract class TrainingRefusalTests(TrainingServer shared) : IAsyncLifetime
{
    private PermitFixture F { get; set; } = null!;

    private string ProjectId => shared.ProjectId;

    public async ValueTask InitializeAsync() => F = await shared.FixtureAsync();

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task A_person_without_training_is_refused_with_the_reason_and_whom_to_ask()
    {
        using var researcher = await F.Server.ClientForAccountAsync("researcher");

        var response = await researcher.GetAsync($"/api/v1/projects/{ProjectId}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("SPE8200", problem.GetProperty("code").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("No completed training is recorded for you in the role researcher", detail, StringComparison.Ordinal);
        Assert.Contains("ask your HDAB officer or an SPE admin", detail, StringComparison.Ordinal);
        var rows = await F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(ProjectId: ProjectId));
        Assert.Contains(rows, r => r.Outcome == "denied" && r.DetailsJson.Contains("training-missing", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task The_job_desktop_and_terminal_paths_refuse_an_untrained_person_through_the_same_chain()
    {
        using var researcher = await F.Server.ClientForAccountAsync("researcher");
        var ct = TestContext.Current.CancellationToken;

        var job = await researcher.PostAsJsonAsync($"/api/v1/projects/{ProjectId}/jobs", new { command = new[] { "true" } }, ct);
        var desktop = await researcher.PostAsJsonAsync($"/api/v1/projects/{ProjectId}/desktop/tickets", new { acceptTerms = true, termsVersion = "1" }, ct);
        var terminal = await researcher.PostAsJsonAsync($"/api/v1/projects/{ProjectId}/terminal/tickets", new { acceptTerms = true, termsVersion = "1" }, ct);

        foreach (var response in new[] { job, desktop, terminal })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("SPE8200", (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("code").GetString());
        }
    }

    [Theory]
    [InlineData("researcher", "/api/v1/projects")]
    [InlineData("holder", "/api/v1/projects")]
    [InlineData("hdab", "/api/v1/projects")]
    [InlineData("checker", "/api/v1/exports")]
    [InlineData("hdab", "/api/v1/exports")]
    [InlineData("checker", "/api/v1/imports")]
    [Trait("Requirement", "OPR-23")]
    public async Task Lists_across_projects_refuse_an_untrained_person_as_each_project_would(string who, string path)
    {
        using var client = await F.Server.ClientForAccountAsync(who);

        var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("SPE8200", problem.GetProperty("code").GetString());
        Assert.Contains("No completed training is recorded for you", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [Trait("Requirement", "OPR-23")]
    public async Task An_empty_or_overlong_account_filter_is_a_400_at_its_field_that_echoes_nothing(string filler)
    {
        using var auditor = await F.Server.ClientForAccountAsync("auditor");
        var account = filler.Length == 0 ? "" : new string('x', 3000);

        var response = await auditor.GetAsync(new Uri("/api/v1/training?account=" + account, UriKind.Relative), TestContext.Current.CancellationToken);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("account", out _), problem.ToString());
        Assert.DoesNotContain(new string('x', 300), problem.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("operator")]
    [InlineData("auditor")]
    [Trait("Requirement", "OPR-23")]
    public async Task Other_roles_cannot_record_training_and_nothing_is_recorded(string who)
    {
        var response = await RecordAsync(who, "researcher2", "researcher", "2026-11-01");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await ListAsync("auditor", null));
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("admin")]
    [Trait("Requirement", "OPR-23")]
    public async Task Nobody_records_their_own_training(string who)
    {
        var response = await RecordAsync(who, who, who, "2026-11-01");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("SPE8201", (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString());
        Assert.Empty(await ListAsync("auditor", null));
    }

    [Theory]
    [InlineData("2026-13-01", null)]
    [InlineData("01/11/2026", null)]
    [InlineData("2026-11-31", null)]
    [InlineData("2026-12-15", null)]
    [InlineData("1999-01-01", null)]
    [InlineData("2026-11-01", "2026-10-01")]
    [InlineData("2026-11-01", "2026-11-01")]
    [InlineData("2026-11-01", "never!!!!!")]
    [Trait("Requirement", "OPR-23")]
    public async Task Malformed_or_impossible_dates_are_400_and_nothing_is_recorded(string completed, string? expires)
    {
        var response = await RecordAsync("hdab", "researcher", "researcher", completed, expires);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await ListAsync("hdab", null));
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task An_unknown_role_or_account_is_refused_and_nothing_is_recorded()
    {
        var role = await RecordAsync("hdab", "researcher", "wizard", "2026-11-01");
        var account = await RecordAsync("hdab", "nobody-here", "researcher", "2026-11-01");

        Assert.Equal(HttpStatusCode.BadRequest, role.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, account.StatusCode);
        Assert.Empty(await ListAsync("hdab", null));
    }

    private Task<HttpResponseMessage> RecordAsync(string who, string account, string role, string completed, string? expires = null) =>
        TrainingApi.RecordAsync(F, who, account, role, completed, expires);

    private Task<List<JsonElement>> ListAsync(string who, string? account) => TrainingApi.ListAsync(F, who, account);
}

/// <summary>One server with training required and a permit in force, shared by a class's refusal cases.</summary>
public abstract class TrainingServer : IAsyncDisposable
{
    private readonly SharedStart<PermitFixture> _server;

    protected TrainingServer() => _server = new(StartAsync);

    public string ProjectId { get; private set; } = "";

    protected abstract TestBackend Backend { get; }

    public Task<PermitFixture> FixtureAsync() => _server.GetAsync();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private async Task<PermitFixture> StartAsync()
    {
        var f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Training:Required"] = "true" }, Backend);
        (_, ProjectId) = await f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(400)));
        return f;
    }
}

public sealed class SqliteTrainingServer : TrainingServer
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresTrainingServer : TrainingServer
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}

public sealed class SqliteTrainingRefusalTests(SqliteTrainingServer shared) : TrainingRefusalTests(shared), IClassFixture<SqliteTrainingServer>;

public sealed class PostgresTrainingRefusalTests(PostgresTrainingServer shared) : TrainingRefusalTests(shared), IClassFixture<PostgresTrainingServer>;
