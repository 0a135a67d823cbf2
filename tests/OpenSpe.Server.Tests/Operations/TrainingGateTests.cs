using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// Training that gates access (OPR-23) through the real HTTP pipeline with <c>Training:Required</c> on: the HDAB or an admin
/// records a person's role-specific training; without a valid record (none, expired, or for another role) a person is
/// refused at the project with SPE8200 and a message naming the role and whom to ask — on the API, the job, the desktop and
/// the terminal paths alike, which share the access chain; every other role, one's own record and malformed dates are refused
/// with nothing recorded.
/// </summary>
public abstract class TrainingGateTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = PermitFixture.Start;
    private PermitFixture _f = null!;
    private string _projectId = "";

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Training:Required"] = "true" }, Backend);
        (_, _projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(400)));
    }

    public async ValueTask DisposeAsync()
    {
        await _f.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task A_person_without_training_is_refused_with_the_reason_and_whom_to_ask()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        var response = await researcher.GetAsync($"/api/v1/projects/{_projectId}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("SPE8200", problem.GetProperty("code").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("No completed training is recorded for you in the role researcher", detail, StringComparison.Ordinal);
        Assert.Contains("ask your HDAB officer or an SPE admin", detail, StringComparison.Ordinal);
        var rows = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(ProjectId: _projectId));
        Assert.Contains(rows, r => r.Outcome == "denied" && r.DetailsJson.Contains("training-missing", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task A_valid_record_lets_the_person_in_until_it_expires_then_they_are_refused_as_expired()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        var recorded = await RecordAsync("hdab", "researcher", "researcher", "2026-11-01", "2026-12-01");
        var inside = await researcher.GetAsync($"/api/v1/projects/{_projectId}", TestContext.Current.CancellationToken);
        _f.Clock.Advance(TimeSpan.FromDays(2));
        // Note: a new sign-in, since the first token expired with the two days.
        using var later = await _f.Server.ClientForAccountAsync("researcher");
        var after = await later.GetAsync($"/api/v1/projects/{_projectId}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        var problem = await after.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("SPE8200", problem.GetProperty("code").GetString());
        Assert.Contains("Your training for the role researcher has expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Training_for_another_role_does_not_open_the_project()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        Assert.Equal(HttpStatusCode.Created, (await RecordAsync("admin", "researcher", "data-holder", "2026-11-01")).StatusCode);
        var response = await researcher.GetAsync($"/api/v1/projects/{_projectId}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task The_job_desktop_and_terminal_paths_refuse_an_untrained_person_through_the_same_chain()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        var ct = TestContext.Current.CancellationToken;

        var job = await researcher.PostAsJsonAsync($"/api/v1/projects/{_projectId}/jobs", new { command = new[] { "true" } }, ct);
        var desktop = await researcher.PostAsJsonAsync($"/api/v1/projects/{_projectId}/desktop/tickets", new { acceptTerms = true, termsVersion = "1" }, ct);
        var terminal = await researcher.PostAsJsonAsync($"/api/v1/projects/{_projectId}/terminal/tickets", new { acceptTerms = true, termsVersion = "1" }, ct);

        foreach (var response in new[] { job, desktop, terminal })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("SPE8200", (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("code").GetString());
        }
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

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Records_are_listed_with_their_status_for_auditors_and_audited_and_others_cannot_read_them()
    {
        await RecordAsync("hdab", "researcher", "researcher", "2026-11-01", "2026-11-15");
        await RecordAsync("admin", "researcher2", "researcher", "2026-11-02");

        var all = await ListAsync("auditor", null);
        var one = await ListAsync("admin", "researcher2");
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        var refused = await researcher.GetAsync("/api/v1/training", TestContext.Current.CancellationToken);

        Assert.Equal(["expired", "valid"], all.Select(r => r.GetProperty("status").GetString()));
        var record = Assert.Single(one);
        Assert.Equal("researcher2", record.GetProperty("account").GetString());
        Assert.Equal("2026-11-02", record.GetProperty("completed").GetString());
        Assert.False(record.TryGetProperty("expires", out var expires) && expires.ValueKind != JsonValueKind.Null);
        Assert.Equal("admin", record.GetProperty("recordedBy").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var rows = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "training.recorded"));
        Assert.Equal(2, rows.Count);
    }

    private async Task<HttpResponseMessage> RecordAsync(string who, string account, string role, string completed, string? expires = null)
    {
        using var client = await _f.Server.ClientForAccountAsync(who);
        return await client.PostAsJsonAsync("/api/v1/training", new { account, role, course = "EHDS and GDPR for data users", completed, expires }, TestContext.Current.CancellationToken);
    }

    private async Task<List<JsonElement>> ListAsync(string who, string? account)
    {
        using var client = await _f.Server.ClientForAccountAsync(who);
        var path = account is null ? "/api/v1/training" : $"/api/v1/training?account={account}";
        return [.. (await client.GetFromJsonAsync<JsonElement>(path, TestContext.Current.CancellationToken)).EnumerateArray()];
    }
}

public sealed class SqliteTrainingGateTests : TrainingGateTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresTrainingGateTests : TrainingGateTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
