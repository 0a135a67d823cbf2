using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// <c>GET /api/v1/audit/export</c> takes the search's filters (actor, action, project, time) and keeps exactly the records the
/// search finds; a malformed filter is a 400 problem before anything is streamed; every role but the auditor is refused
/// (EHDSR-6, TIR-22). The records are real: requests of a researcher to two projects' paths, recorded by the audit middleware.
/// </summary>
public sealed class AuditExportFilterTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private SpeTestServer Server => shared.Server;

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task The_export_keeps_exactly_the_records_the_search_finds_for_actor_action_and_project()
    {
        var (projectA, projectB) = await TwoProjectsTouchedByTheResearcherAsync();
        using var auditor = await Server.ClientForAccountAsync("auditor");

        var byProject = await ExportAsync(auditor, $"project={projectA}");
        var action = byProject[0].GetProperty("action").GetString()!;
        var all = await ExportAsync(auditor, $"project={projectA}&actor=researcher&action={Uri.EscapeDataString(action)}&since=2000-01-01T00:00:00Z&until=2099-01-01T00:00:00Z");
        var searched = await auditor.GetFromJsonAsync<AuditRecordPage>($"/api/v1/audit/records?project={projectA}&actor=researcher&action={Uri.EscapeDataString(action)}&limit=1000");
        var otherActor = await ExportAsync(auditor, $"project={projectA}&actor=auditor&action={Uri.EscapeDataString(action)}");
        var otherAction = await ExportAsync(auditor, $"project={projectA}&action=audit.verify");
        var future = await ExportAsync(auditor, $"project={projectA}&since=2099-01-01T00:00:00Z");
        using var csv = await auditor.GetAsync($"/api/v1/audit/export?format=csv&project={projectB}&actor=researcher");
        var csvLines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // The researcher's two requests and the auditor's one.
        Assert.Equal(3, byProject.Count);
        Assert.All(byProject, r => Assert.Equal(projectA, r.GetProperty("resource").GetProperty("projectId").GetString()));
        Assert.Equal("researcher", byProject[0].GetProperty("actor").GetProperty("username").GetString());
        Assert.Equal(searched!.Items.Select(r => r.Sequence), all.Select(r => r.GetProperty("sequence").GetInt64()));
        Assert.Equal(2, all.Count);
        Assert.All(all, r => Assert.Equal("researcher", r.GetProperty("actor").GetProperty("username").GetString()));
        Assert.Empty(otherActor);
        Assert.Empty(otherAction);
        Assert.Empty(future);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.StartsWith("sequence,timestamp,", csvLines[0], StringComparison.Ordinal);
        Assert.Single(csvLines[1..]);
        Assert.Contains($",{projectB},", csvLines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("actor", "format=jsonl&actor=", "actor must be at most 200 characters.")]
    [InlineData("project", "format=csv&project=", "project must be at most 200 characters.")]
    [InlineData("action", "format=jsonl&action=", "action must be at most 200 characters.")]
    [InlineData("until", "format=jsonl&since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until must not be before since.")]
    [InlineData("format", "format=xml&actor=researcher", "format must be jsonl or csv.")]
    [Trait("Requirement", "EHDSR-6")]
    public async Task A_malformed_filter_is_a_400_problem_at_its_field_and_nothing_is_streamed(string field, string query, string message)
    {
        using var auditor = await Server.ClientForAccountAsync("auditor");
        var watermark = await HeadAsync();
        // Note: a value one character too long, made here because attribute arguments must be constants.
        var path = "/api/v1/audit/export?" + (query.EndsWith('=') ? query + new string('x', 201) : query);

        using var response = await auditor.GetAsync(path);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var records = await Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "audit.export", AfterSequence: watermark));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(message, problem.GetProperty("errors").GetProperty(field)[0].GetString());
        var record = Assert.Single(records);
        Assert.Equal(400, record.HttpStatus);
        Assert.DoesNotContain("\"stream\"", record.DetailsJson, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("operator")]
    [InlineData("hdab")]
    [InlineData("admin")]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "TIR-22")]
    public async Task Every_other_role_gets_403_for_a_filtered_export_and_no_record(string account)
    {
        using var client = await Server.ClientForAccountAsync(account);

        using var response = await client.GetAsync($"/api/v1/audit/export?format=jsonl&actor={account}&action=audit.export&project=prj-x");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("\"sequence\"", body, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task A_signed_out_caller_gets_401_for_a_filtered_export()
    {
        using var response = await Server.Client.GetAsync("/api/v1/audit/export?format=jsonl&actor=auditor");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("\"sequence\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Two requests of the researcher to each of two project paths they are no member of: recorded with the project's id.</summary>
    private async Task<(string A, string B)> TwoProjectsTouchedByTheResearcherAsync()
    {
        var (a, b) = ("prj-filter-a-" + Guid.NewGuid().ToString("N")[..8], "prj-filter-b-" + Guid.NewGuid().ToString("N")[..8]);
        using var researcher = await Server.ClientForAccountAsync("researcher");
        foreach (var project in new[] { a, a, b })
        {
            using var _ = await researcher.GetAsync($"/api/v1/projects/{project}/exports");
        }

        using var auditor = await Server.ClientForAccountAsync("auditor");
        using var other = await auditor.GetAsync($"/api/v1/projects/{a}/imports");
        return (a, b);
    }

    private static async Task<List<JsonElement>> ExportAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync("/api/v1/audit/export?format=jsonl&" + query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return [.. body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    private async Task<long> HeadAsync() =>
        (await Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Limit: 1, NewestFirst: true))).Single().Sequence;
}
