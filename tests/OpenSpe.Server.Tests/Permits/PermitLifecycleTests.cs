using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>Permits drive every access (EHDSR-1, EHDSR-3, EHDSR-10, OPR-1, OPR-5): validity, amendments, suspension, revocation, expiry and erasure, on an injectable clock.</summary>
public abstract class PermitLifecycleTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    protected abstract OpenSpe.Server.Tests.Infrastructure.TestBackend Backend { get; }

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync(backend: Backend);

    public async ValueTask DisposeAsync()
    {
        await _f.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private static DateTimeOffset Start => PermitFixture.Start;

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    [Trait("Requirement", "EHDSR-10")]
    public async Task Hdab_issues_a_permit_and_its_project_and_key_pair_exist()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(365)));
        var keys = _f.Server.Services.GetRequiredService<IProjectKeyStore>();

        Assert.StartsWith("pmt-", permitId, StringComparison.Ordinal);
        Assert.True(await keys.ExistsAsync(projectId));
        Assert.Equal("active", await _f.StateAsync(permitId));
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", $"/api/v1/projects/{projectId}/datasets"));
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("holder", $"/api/v1/projects/{projectId}"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task Only_the_hdab_issues_permits()
    {
        var response = await _f.PostAsAsync("researcher", "/api/v1/permits", PermitFixture.Document(Start, Start.AddDays(1)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    public static TheoryData<string, string> InvalidPermits => new()
    {
        { "dates", "validUntil" },
        { "ended", "validUntil" },
        { "date-only", "$.validFrom" },
        { "no-offset", "$.validUntil" },
        { "unknown-account", "dataUsers[0].account" },
        { "duplicate-dataset", "datasets[1].id" },
        { "holder-not-holder", "datasets[0].holder" },
        { "purpose", "purpose" },
        { "clipboard", "policies.clipboard" },
        { "sha", "policies.approvedComponents[0].sha256" },
    };

    [Theory]
    [MemberData(nameof(InvalidPermits))]
    [Trait("Requirement", "EHDSR-10")]
    [Trait("Requirement", "TIR-9")]
    public async Task Invalid_permit_is_refused_with_the_field_named_and_nothing_is_created(string kind, string field)
    {
        var document = PermitFixture.Document(Start, Start.AddDays(30));
        switch (kind)
        {
            case "dates": document["validUntil"] = Start.AddDays(-1); break;
            case "ended": document["validFrom"] = Start.AddDays(-30); document["validUntil"] = Start.AddDays(-1); break;
            case "date-only": document["validFrom"] = "2026-11-29"; break;
            case "no-offset": document["validUntil"] = "2026-12-29T00:00:00"; break;
            case "unknown-account": document["dataUsers"] = new[] { new { account = "nobody" } }; break;
            case "duplicate-dataset": document["datasets"] = new[] { new { id = "a", title = "A", holder = "holder" }, new { id = "a", title = "B", holder = "holder" } }; break;
            case "holder-not-holder": document["datasets"] = new[] { new { id = "a", title = "A", holder = "researcher" } }; break;
            case "purpose": document["purpose"] = "marketing"; break;
            case "clipboard": document["policies"] = new { clipboard = "always" }; break;
            case "sha": document["policies"] = new { approvedComponents = new[] { new { name = "x", version = "1", sha256 = "nothex" } } }; break;
        }

        var response = await _f.PostAsAsync("hdab", "/api/v1/permits", document);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var list = await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal(0, list.GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Unknown_permit_field_is_refused()
    {
        var document = PermitFixture.Document(Start, Start.AddDays(30));
        document["secretBackdoor"] = true;

        var response = await _f.PostAsAsync("hdab", "/api/v1/permits", document);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-3")]
    [Trait("Requirement", "OPR-1")]
    public async Task Access_is_refused_before_valid_from_and_after_valid_until()
    {
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(1), Start.AddDays(2)));
        var path = $"/api/v1/projects/{projectId}/datasets";

        var before = await _f.GetAsAsync("researcher", path);
        _f.Clock.Advance(TimeSpan.FromDays(1.5));
        var during = await _f.GetAsAsync("researcher", path);
        _f.Clock.Advance(TimeSpan.FromDays(1));
        var after = await _f.GetAsAsync("researcher", path);

        Assert.Equal(HttpStatusCode.Forbidden, before);
        Assert.Equal(HttpStatusCode.OK, during);
        Assert.Equal(HttpStatusCode.Forbidden, after);
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task A_person_not_named_cannot_learn_the_project_exists()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30), users: ["researcher"]));

        Assert.Equal(HttpStatusCode.NotFound, await _f.GetAsAsync("researcher2", $"/api/v1/projects/{projectId}"));
        Assert.Equal(HttpStatusCode.NotFound, await _f.GetAsAsync("researcher2", $"/api/v1/projects/{projectId}/datasets"));
        Assert.Equal(HttpStatusCode.NotFound, await _f.GetAsAsync("researcher2", $"/api/v1/projects/prj-doesnotexist/datasets"));
        Assert.Equal(HttpStatusCode.NotFound, await _f.GetAsAsync("researcher2", $"/api/v1/permits/{permitId}"));
        using var other = await _f.Server.ClientForAccountAsync("researcher2");
        Assert.Equal(0, (await other.GetFromJsonAsync<JsonElement>("/api/v1/projects")).GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "SPER-5")]
    public async Task Members_see_each_other()
    {
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        var project = await researcher.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{projectId}");
        var list = await researcher.GetFromJsonAsync<JsonElement>("/api/v1/projects");

        Assert.Contains("researcher2", project.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("username").GetString()));
        Assert.Equal(["researcher"], list[0].GetProperty("myRoles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-3")]
    [Trait("Requirement", "OPR-1")]
    public async Task Person_removed_by_amendment_loses_access_at_once_and_the_history_is_kept()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));
        var path = $"/api/v1/projects/{projectId}/datasets";
        var beforeAmendment = await _f.GetAsAsync("researcher2", path);

        var amended = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/amendments", PermitFixture.Document(Start.AddDays(-1), Start.AddDays(60), users: ["researcher"]));
        var afterAmendment = await _f.GetAsAsync("researcher2", path);
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var versions = await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}/versions");

        Assert.Equal(HttpStatusCode.OK, beforeAmendment);
        Assert.Equal(HttpStatusCode.OK, amended.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterAmendment);
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", path));
        Assert.Equal(2, versions.GetArrayLength());
        Assert.Contains("removed researcher2", versions[1].GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    public async Task Suspension_cuts_access_at_once_and_resumption_restores_it()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));
        var path = $"/api/v1/projects/{projectId}/datasets";

        var suspend = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/suspend", new { reason = "investigation" });
        var whileSuspended = await _f.GetAsAsync("researcher", path);
        var resume = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/resume", new { reason = "cleared" });
        var afterResume = await _f.GetAsAsync("researcher", path);
        var suspendWithoutReason = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/suspend", new { });

        Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, whileSuspended);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterResume);
        Assert.Equal(HttpStatusCode.BadRequest, suspendWithoutReason.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    public async Task An_amendment_that_would_end_the_permit_before_now_is_refused_and_nothing_changes()
    {
        var (permitId, _) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-10), Start.AddDays(30)));

        var amended = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/amendments", PermitFixture.Document(Start.AddDays(-10), Start.AddHours(-1)));
        var problem = await amended.Content.ReadFromJsonAsync<JsonElement>();
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var versions = await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}/versions");

        Assert.Equal(HttpStatusCode.BadRequest, amended.StatusCode);
        Assert.Equal(["validUntil must be in the future: a permit cannot be issued or amended to end before now."],
            problem.GetProperty("errors").GetProperty("validUntil").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1, versions.GetArrayLength());
        Assert.Equal("active", await _f.StateAsync(permitId));
    }

    [Fact]
    [Trait("Requirement", "OPR-5")]
    public async Task Resuming_needs_no_reason_while_suspending_and_revoking_do()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));

        var suspendWithoutReason = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/suspend", new { });
        var revokeWithoutReason = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/revoke", new { reason = "  " });
        var suspend = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/suspend", new { reason = "investigation" });
        var resume = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/resume", new { });
        var audit = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(ProjectId: projectId));

        Assert.Equal(HttpStatusCode.BadRequest, suspendWithoutReason.StatusCode);
        Assert.True((await suspendWithoutReason.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("reason", out _));
        Assert.Equal(HttpStatusCode.BadRequest, revokeWithoutReason.StatusCode);
        Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal("active", await _f.StateAsync(permitId));
        Assert.Equal(HttpStatusCode.OK, await _f.GetAsAsync("researcher", $"/api/v1/projects/{projectId}/datasets"));
        var resumed = audit.Single(r => r.Action == "permit.resumed");
        Assert.Equal("", JsonDocument.Parse(resumed.DetailsJson).RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-5")]
    public async Task Revocation_terminates_the_project_at_once()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30)));

        var revoke = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/revoke", new { reason = "misuse" });
        var access = await _f.GetAsAsync("researcher", $"/api/v1/projects/{projectId}/datasets");
        var amend = await _f.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/amendments", PermitFixture.Document(Start, Start.AddDays(60)));

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("terminated", await _f.StateAsync(permitId));
        Assert.Equal(HttpStatusCode.Forbidden, access);
        Assert.Equal(ErrorCodes.PermitStateConflict, (await ProblemAssert.IsProblemAsync(amend, HttpStatusCode.Conflict)).GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-5")]
    [Trait("Requirement", "EHDSR-8")]
    public async Task Expiry_terminates_and_the_grace_period_erases_keys_and_objects_with_a_signed_certificate()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(Start.AddDays(-1), Start.AddDays(10)));
        var objects = _f.Server.Services.GetRequiredService<IObjectStore>();
        var keys = _f.Server.Services.GetRequiredService<IProjectKeyStore>();
        await objects.PutAsync($"projects/{projectId}/datasets/omop-2026/part-1.c4gh", new MemoryStream(new byte[4096]));

        _f.Clock.Advance(TimeSpan.FromDays(10));
        await _f.WaitForStateAsync(permitId, "terminated");
        var keyAfterTermination = await keys.ExistsAsync(projectId);
        _f.Clock.Advance(TimeSpan.FromDays(30));
        await _f.WaitForStateAsync(permitId, "erased");

        Assert.True(keyAfterTermination);
        Assert.False(await keys.ExistsAsync(projectId));
        Assert.False(await objects.ExistsAsync($"projects/{projectId}/datasets/omop-2026/part-1.c4gh"));
        var audit = _f.Server.Services.GetRequiredService<AuditService>();
        var rows = await audit.QueryAsync(new AuditQuery(ProjectId: projectId));
        Assert.Equal(["permit.issued", "project.created", "permit.expired", "project.terminated", "project.erased"],
            rows.Select(r => r.Action).Where(a => a.StartsWith("permit.", StringComparison.Ordinal) || a.StartsWith("project.", StringComparison.Ordinal)));
        var erased = rows.Single(r => r.Action == "project.erased");
        var certificate = JsonDocument.Parse(erased.DetailsJson).RootElement.GetProperty("certificate").GetString()!;
        var payload = await PermitDocumentTests.VerifyWithPublishedKeyAsync(_f.Server, certificate);
        Assert.Equal(projectId, payload.GetProperty("projectId").GetString());
        Assert.Equal(1, payload.GetProperty("objects").GetProperty("count").GetInt64());
        Assert.True((await audit.VerifyAsync()).Valid);
    }
}

public sealed class SqlitePermitLifecycleTests : PermitLifecycleTests
{
    protected override OpenSpe.Server.Tests.Infrastructure.TestBackend Backend => OpenSpe.Server.Tests.Infrastructure.TestBackend.Sqlite;
}

public sealed class PostgresPermitLifecycleTests : PermitLifecycleTests
{
    protected override OpenSpe.Server.Tests.Infrastructure.TestBackend Backend => OpenSpe.Server.Tests.Infrastructure.TestBackend.PostgreSql;
}
