using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// Applications are principals of their own (FCR-7): no credential an admin creates acts as a person,
/// and an application reaches a project only when the HDAB names it in the permit.
/// </summary>
public sealed class ApplicationPrincipalTests
{
    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "FCR-7")]
    public async Task An_admin_cannot_make_a_client_that_acts_as_a_person()
    {
        await using var f = await PermitFixture.StartAsync();
        var (_, projectId) = await f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));
        using var admin = await f.Server.ClientForAccountAsync("admin");

        // The attack of the review: a client bound to the researcher's account.
        var bound = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { clientId = "bound-app", account = "researcher" });
        var registered = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { clientId = "own-app" });
        var secret = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientSecret").GetString()!;
        using var app = f.Server.ClientWithToken(await IdentityClient.ClientCredentialsAsync(f.Server, "own-app", secret));
        var me = await app.GetFromJsonAsync<JsonElement>("/api/v1/account");

        await ProblemAssert.IsProblemAsync(bound, HttpStatusCode.BadRequest);
        Assert.Null(await FindApplicationAsync(f.Server, "bound-app"));
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        Assert.Equal("app:own-app", me.GetProperty("subjectId").GetString());
        Assert.Empty(me.GetProperty("roles").EnumerateArray());
        Assert.Empty(me.GetProperty("authenticationMethods").EnumerateArray());
        foreach (var path in new[] { "", "/datasets", "/files", "/public-key" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await app.GetAsync($"/api/v1/projects/{projectId}{path}")).StatusCode);
        }

        Assert.Empty(await app.GetFromJsonAsync<JsonElement[]>("/api/v1/projects") ?? []);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.GetAsync("/api/v1/permits")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.GetAsync("/api/v1/audit/records")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.PostAsJsonAsync("/api/v1/account/password", new { currentPassword = "x", newPassword = "y-long-enough-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.PostAsync("/api/v1/account/totp", null)).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FCR-7")]
    [Trait("Requirement", "EHDSR-7")]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "TIR-1")]
    public async Task An_application_the_hdab_names_in_the_permit_reads_the_project_and_is_audited_with_its_registrar()
    {
        await using var f = await PermitFixture.StartAsync();
        using var admin = await f.Server.ClientForAccountAsync("admin");
        var secret = (await (await admin.PostAsJsonAsync("/api/v1/admin/clients", new { clientId = "cohort-pipeline" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("clientSecret").GetString()!;
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["dataUsers"] = new object[] { new { account = "researcher" }, new { application = "cohort-pipeline" } };
        var (_, projectId) = await f.IssueAsync(document);
        using var app = f.Server.ClientWithToken(await IdentityClient.ClientCredentialsAsync(f.Server, "cohort-pipeline", secret));

        var show = await app.GetAsync($"/api/v1/projects/{projectId}");
        var datasets = await app.GetAsync($"/api/v1/projects/{projectId}/datasets");
        var files = await app.GetAsync($"/api/v1/projects/{projectId}/files");
        var key = await app.GetAsync($"/api/v1/projects/{projectId}/public-key");
        using var create = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/projects/{projectId}/uploads");
        create.Headers.Add("Tus-Resumable", "1.0.0");
        create.Headers.Add("Upload-Length", "10");
        var upload = await app.SendAsync(create);
        var permits = await app.GetAsync("/api/v1/permits");

        Assert.Equal(HttpStatusCode.OK, show.StatusCode);
        Assert.Equal(HttpStatusCode.OK, datasets.StatusCode);
        Assert.Equal(HttpStatusCode.OK, files.StatusCode);
        Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, permits.StatusCode);
        await using var connection = await f.Server.Database.OpenConnectionAsync();
        var rows = AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
        Assert.Contains(rows, r => r.Action == "projects.show" && r.ActorSubject == "app:cohort-pipeline" && r.ActorClientId == "cohort-pipeline"
            && r.ActorUsername == "cohort-pipeline (application registered by admin)");
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    public async Task A_deleted_application_is_refused_at_once()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var admin = await server.ClientForAccountAsync("admin");
        using var researcher = await server.ClientForAccountAsync("researcher");
        var secret = (await (await admin.PostAsJsonAsync("/api/v1/admin/clients", new { clientId = "short-lived" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("clientSecret").GetString()!;
        using var app = server.ClientWithToken(await IdentityClient.ClientCredentialsAsync(server, "short-lived", secret));
        var before = await app.GetAsync("/api/v1/projects");

        var byResearcher = await researcher.DeleteAsync("/api/v1/admin/clients/short-lived");
        var deleted = await admin.DeleteAsync("/api/v1/admin/clients/short-lived");
        var after = await app.GetAsync("/api/v1/projects");
        var missing = await admin.DeleteAsync("/api/v1/admin/clients/short-lived");
        var firstParty = await admin.DeleteAsync("/api/v1/admin/clients/spe-cli");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byResearcher.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, firstParty.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "FCR-7")]
    public async Task A_client_bound_to_a_person_before_this_change_is_unbound_at_start()
    {
        await using var first = await SpeTestServer.StartAsync();
        string secret;
        await using (var scope = first.Services.CreateAsyncScope())
        {
            // An application as the previous version stored it: bound to the hdab account, whose roles it took.
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
            secret = "legacy-secret-0123456789abcdef";
            var descriptor = new OpenIddictApplicationDescriptor { ClientId = "legacy-bot", ClientSecret = secret, ClientType = OpenIddictConstants.ClientTypes.Confidential };
            descriptor.Permissions.UnionWith([OpenIddictConstants.Permissions.Endpoints.Token, OpenIddictConstants.Permissions.GrantTypes.ClientCredentials]);
            descriptor.Properties[IdentitySeeder.LegacyAccountProperty] = JsonSerializer.SerializeToElement((await users.FindByNameAsync("hdab"))!.Id);
            await applications.CreateAsync(descriptor);
        }

        var directory = first.DataDirectory;
        await first.StopKeepingDataAsync();
        await using var restarted = await SpeTestServer.StartAsync(reuseDirectory: directory);
        using var app = restarted.ClientWithToken(await IdentityClient.ClientCredentialsAsync(restarted, "legacy-bot", secret));
        var me = await app.GetFromJsonAsync<JsonElement>("/api/v1/account");
        var permits = await app.GetAsync("/api/v1/permits");

        Assert.Empty(me.GetProperty("roles").EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, permits.StatusCode);
        await using var connection = await restarted.Database.OpenConnectionAsync();
        Assert.Contains(AuditStore.ReadRows(connection).Select(r => r.Clone()), r => r.Action == "admin.clients.migrated" && r.DetailsJson.Contains("legacy-bot", StringComparison.Ordinal));
    }

    private static async Task<object?> FindApplicationAsync(SpeTestServer server, string clientId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().FindByClientIdAsync(clientId);
    }
}
