using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>Emergency halt (OPR-20): every project-scoped request answers 423 at once; the person who halted cannot lift it alone.</summary>
public sealed class HaltTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync();

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task Project_halt_locks_the_project_and_only_another_person_can_lift_it()
    {
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));
        var (_, otherProject) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-FI-2026-0043"));
        await CreateSecondOperatorAsync();

        var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId, reason = "suspected exfiltration" });
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        var locked = await researcher.GetAsync($"/api/v1/projects/{projectId}/datasets");
        var other = await researcher.GetAsync($"/api/v1/projects/{otherProject}/datasets");
        var sameOperator = await _f.PostAsAsync("operator", "/api/v1/halts/resume", new { projectId });
        var stillLocked = await researcher.GetAsync($"/api/v1/projects/{projectId}/datasets");
        var secondOperator = await _f.PostAsAsync("operator2", "/api/v1/halts/resume", new { projectId });
        var unlocked = await researcher.GetAsync($"/api/v1/projects/{projectId}/datasets");

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        await Api.ProblemAssert.IsProblemAsync(locked, HttpStatusCode.Locked);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, sameOperator.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, stillLocked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondOperator.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unlocked.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task Halt_all_locks_every_project_and_the_hdab_may_lift_its_own()
    {
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));

        var halt = await _f.PostAsAsync("hdab", "/api/v1/halts", new { projectId = (string?)null, reason = "breach at the data centre" });
        var locked = await _f.GetAsAsync("holder", $"/api/v1/projects/{projectId}");
        var resume = await _f.PostAsAsync("hdab", "/api/v1/halts/resume", new { projectId = (string?)null });
        var unlocked = await _f.GetAsAsync("holder", $"/api/v1/projects/{projectId}");

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, locked);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unlocked);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "SDR-2")]
    public async Task Only_operators_and_hdab_halt_and_oversight_never_reaches_data()
    {
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));

        var byResearcher = await _f.PostAsAsync("researcher", "/api/v1/halts", new { projectId, reason = "I want to" });
        var operatorMetadata = await _f.GetAsAsync("operator", $"/api/v1/projects/{projectId}");
        var operatorData = await _f.GetAsAsync("operator", $"/api/v1/projects/{projectId}/datasets");
        var adminMetadata = await _f.GetAsAsync("admin", $"/api/v1/projects/{projectId}");

        Assert.Equal(HttpStatusCode.Forbidden, byResearcher.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorMetadata);
        Assert.Equal(HttpStatusCode.NotFound, operatorData);
        Assert.Equal(HttpStatusCode.NotFound, adminMetadata);
    }

    private async Task CreateSecondOperatorAsync()
    {
        // Arrange-only: a second operator account (the dev seed has one).
        await _f.Server.EnsureAccountAsync("operator2", "operator");
    }
}
