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
/// records a person's role-specific training; a valid record lets the person in until it expires; a record for another
/// role does not; records are listed for auditors. These cases record training, so each has a server of its own; the
/// refusals, which record nothing, share one in <see cref="TrainingRefusalTests"/>.
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
    public async Task A_valid_record_lets_the_person_in_until_it_expires_then_they_are_refused_as_expired()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        var recorded = await RecordAsync("hdab", "researcher", "researcher", "2026-11-01", "2026-12-01");
        var inside = await researcher.GetAsync($"/api/v1/projects/{_projectId}", TestContext.Current.CancellationToken);
        var listed = await researcher.GetFromJsonAsync<List<JsonElement>>("/api/v1/projects", TestContext.Current.CancellationToken);
        _f.Clock.Advance(TimeSpan.FromDays(2));
        // Note: a new sign-in, since the first token expired with the two days.
        using var later = await _f.Server.ClientForAccountAsync("researcher");
        var after = await later.GetAsync($"/api/v1/projects/{_projectId}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
        Assert.Contains(listed!, p => p.GetProperty("id").GetString() == _projectId);
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

    private Task<HttpResponseMessage> RecordAsync(string who, string account, string role, string completed, string? expires = null) =>
        TrainingApi.RecordAsync(_f, who, account, role, completed, expires);

    private Task<List<JsonElement>> ListAsync(string who, string? account) => TrainingApi.ListAsync(_f, who, account);
}

public sealed class SqliteTrainingGateTests : TrainingGateTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresTrainingGateTests : TrainingGateTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
