using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// Upload tickets, what the browser upload page works with: a token for the holder that opens only its project's upload
/// endpoints, refused everywhere else (another project, the project itself, the person's account, its own renewal), issued
/// only to a holder of that project with a second factor, and ended with the person's session (TIR-22, SDR-1, EHDSR-11).
/// </summary>
public sealed class UploadTicketTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _project = null!;
    private string _other = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        await _f.Server.EnsureAccountAsync("ticket-holder", "data-holder");
        _project = await IssueAsync("HDAB-TICKET-A");
        _other = await IssueAsync("HDAB-TICKET-B");
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-11")]
    public async Task A_ticket_opens_its_projects_upload_endpoints_and_nothing_else()
    {
        using var ticket = _f.Server.ClientWithToken(await TicketAsync("ticket-holder", _project));
        var admission = JsonContent.Create(new { dataset = "omop-2026", filename = "cohort.csv", length = 1000 });

        using var datasets = await ticket.GetAsync($"/api/v1/projects/{_project}/datasets", TestContext.Current.CancellationToken);
        using var key = await ticket.GetAsync($"/api/v1/projects/{_project}/public-key", TestContext.Current.CancellationToken);
        using var admitted = await ticket.PostAsync($"/api/v1/projects/{_project}/uploads/admission", admission, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, datasets.StatusCode);
        Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, admitted.StatusCode);
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/v1/projects/{_other}/datasets"),
            (HttpMethod.Get, $"/api/v1/projects/{_other}/public-key"),
            (HttpMethod.Get, $"/api/v1/projects/{_project}"),
            (HttpMethod.Get, $"/api/v1/projects/{_project}/files"),
            (HttpMethod.Get, "/api/v1/projects"),
            (HttpMethod.Get, "/api/v1/permits"),
            (HttpMethod.Get, "/api/v1/account/sessions"),
            (HttpMethod.Post, $"/api/v1/projects/{_project}/uploads/tickets"),
        })
        {
            using var request = new HttpRequestMessage(method, path);
            using var refused = await ticket.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)refused.StatusCode} to an upload ticket");
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "SDR-1")]
    public async Task Only_a_holder_of_the_project_gets_a_ticket_and_not_while_it_is_halted()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        using var stranger = await _f.Server.ClientForAccountAsync("holder");
        using var byResearcher = await researcher.PostAsync($"/api/v1/projects/{_project}/uploads/tickets", null, TestContext.Current.CancellationToken);
        using var byStranger = await stranger.PostAsync($"/api/v1/projects/{_project}/uploads/tickets", null, TestContext.Current.CancellationToken);
        using var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _other, reason = "suspected exfiltration" });
        using var holder = await _f.Server.ClientForAccountAsync("ticket-holder");
        using var whileHalted = await holder.PostAsync($"/api/v1/projects/{_other}/uploads/tickets", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, byResearcher.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, byStranger.StatusCode);
        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal((HttpStatusCode)423, whileHalted.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task A_ticket_ends_when_the_person_is_disabled()
    {
        await _f.Server.EnsureAccountAsync("ticket-leaver", "data-holder");
        var project = await IssueAsync("HDAB-TICKET-C", "ticket-leaver");
        using var ticket = _f.Server.ClientWithToken(await TicketAsync("ticket-leaver", project));
        using var before = await ticket.GetAsync($"/api/v1/projects/{project}/datasets", TestContext.Current.CancellationToken);

        using var admin = await _f.Server.ClientForAccountAsync("admin");
        using var disabled = await admin.PostAsync("/api/v1/admin/users/ticket-leaver/disable", null, TestContext.Current.CancellationToken);
        using var after = await ticket.GetAsync($"/api/v1/projects/{project}/datasets", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    private async Task<string> IssueAsync(string reference, string holder = "ticket-holder")
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), reference, "researcher");
        document["datasets"] = new[] { new { id = "omop-2026", title = "OMOP CDM extract", holder } };
        document["policies"] = new { workspaceKinds = new[] { "job" }, fileTypes = new { upload = new[] { "csv" } } };
        return (await _f.IssueAsync(document)).ProjectId;
    }

    private async Task<string> TicketAsync(string username, string project)
    {
        using var holder = await _f.Server.ClientForAccountAsync(username);
        using var response = await holder.PostAsync($"/api/v1/projects/{project}/uploads/tickets", null, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("ticket").GetString()!;
    }
}
