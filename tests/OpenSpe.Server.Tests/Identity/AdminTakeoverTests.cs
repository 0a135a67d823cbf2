using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// What one admin alone must never achieve (SDR-2, OPR-2), each as an attack through the real HTTP pipeline: reach a permit's
/// project through an external identity mapped to an account of their own, take over another account with a new enrolment link,
/// be told a change happened when a concurrent change undid it, or leave a pair of roles the table forbids pending together.
/// </summary>
public sealed class AdminTakeoverTests : IAsyncLifetime
{
    private const string ExternalIssuer = "https://idp.takeover.example/";
    private const string Audience = "openspe";

    private LocalTokenIssuer _idp = null!;
    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;

    public async ValueTask InitializeAsync()
    {
        _idp = await LocalTokenIssuer.StartAsync(ExternalIssuer);
        _server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["ExternalIdentity:Providers:0:Issuer"] = ExternalIssuer,
            ["ExternalIdentity:Providers:0:Audience"] = Audience,
            ["ExternalIdentity:Providers:0:JwksUrl"] = _idp.JwksUrl.AbsoluteUri,
            ["ExternalIdentity:Providers:0:JwksCertificateFingerprint"] = _idp.CertificateFingerprint,
        });
        _identity = new IdentityClient(_server);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "FSPER-2")]
    public async Task An_admin_who_maps_a_permits_external_identity_to_an_account_of_their_own_reaches_no_project()
    {
        await _server.EnsureAccountAsync("alice", "researcher");
        await _server.EnsureAccountAsync("admin5", "admin");
        using var admin = await _identity.ClientForAsync("admin");
        using var admin5 = await _server.ClientForAccountAsync("admin5");
        await MapApprovedAsync(admin, admin5, "alice", "alice-ext");
        var projectId = await IssueNamingExternalAsync("alice-ext");
        using var alice = _server.ClientWithToken(_idp.Mint("alice-ext", Audience, new Dictionary<string, object> { ["amr"] = new[] { "pwd", "mfa" } }));
        var aliceSees = await alice.GetAsync($"/api/v1/projects/{projectId}");

        // The attack: a local account of the admin's making, enrolled by the admin, then given the permit's external identity.
        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "puppet", roles = new[] { "researcher" } })).Content.ReadFromJsonAsync<JsonElement>();
        using var puppet = await ActivateAsync(created.GetProperty("enrolmentUrl").GetString()!, "puppet");
        var unmapped = await admin.DeleteAsync($"/api/v1/admin/users/alice/external-identities?issuer={Uri.EscapeDataString(ExternalIssuer)}&subject=alice-ext");
        // Note: even with a second admin's approval of the mapping (the mapping is a credential, so it waits for one).
        await MapApprovedAsync(admin, admin5, "puppet", "alice-ext");
        var shown = await puppet.GetAsync($"/api/v1/projects/{projectId}");
        var listed = await puppet.GetFromJsonAsync<JsonElement>("/api/v1/projects");
        var datasets = await puppet.GetAsync($"/api/v1/projects/{projectId}/datasets");

        Assert.Equal(HttpStatusCode.OK, aliceSees.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unmapped.StatusCode);
        await ProblemAssert.IsProblemAsync(shown, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(datasets, HttpStatusCode.NotFound);
        Assert.DoesNotContain(projectId, listed.EnumerateArray().Select(p => p.GetProperty("id").GetString()));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task One_admin_cannot_take_over_another_account_with_a_new_enrolment_link()
    {
        await _server.EnsureAccountAsync("admin2", "admin");
        await _server.EnsureAccountAsync("admin3", "admin");
        using var admin = await _identity.ClientForAsync("admin");
        using var admin2 = await _server.ClientForAccountAsync("admin2");
        using var admin3 = await _server.ClientForAccountAsync("admin3");

        var requested = await admin.PostAsync("/api/v1/admin/users/admin2/enrolment", null);
        var body = await requested.Content.ReadFromJsonAsync<JsonElement>();
        var approvalId = body.GetProperty("approvalId").GetString()!;
        var admin2StillWorks = await admin2.GetAsync("/api/v1/admin/users");
        var byRequester = await admin.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        var byTarget = await admin2.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        var listed = await admin3.GetFromJsonAsync<JsonElement>("/api/v1/admin/role-grants");
        var approved = await admin3.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        var approval = await approved.Content.ReadFromJsonAsync<JsonElement>();
        var admin2AfterApproval = await admin2.GetAsync("/api/v1/admin/users");

        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        Assert.Equal("pending-approval", body.GetProperty("status").GetString());
        Assert.False(body.TryGetProperty("enrolment", out _), body.ToString());
        Assert.DoesNotContain("token=", body.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, admin2StillWorks.StatusCode);
        await ProblemAssert.IsProblemAsync(byRequester, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(byTarget, HttpStatusCode.Forbidden);
        Assert.Contains(listed.EnumerateArray(), g => g.GetProperty("id").GetString() == approvalId && g.GetProperty("role").GetString() == "enrolment");
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal("admin2", approval.GetProperty("enrolment").GetProperty("username").GetString());
        Assert.Contains("/account/activate?token=", approval.GetProperty("enrolment").GetProperty("enrolmentUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, admin2AfterApproval.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task One_admin_cannot_map_an_identity_of_their_own_onto_another_account_and_act_as_it()
    {
        await _server.EnsureAccountAsync("admin4", "admin");
        using var admin = await _identity.ClientForAsync("admin");
        using var admin4 = await _server.ClientForAccountAsync("admin4");
        await _server.EnsureAccountAsync("crony");

        // The attack: the admin asks for a privileged grant, then maps an identity they hold at the provider onto a second admin's
        // account, signs in at the provider and approves their own request as that admin.
        var requested = await (await admin.PutAsync("/api/v1/admin/users/crony/roles/operator", null)).Content.ReadFromJsonAsync<JsonElement>();
        var mapped = await admin.PostAsJsonAsync("/api/v1/admin/users/admin4/external-identities", new { issuer = ExternalIssuer, subject = "mallory-ext" });
        var mapping = await mapped.Content.ReadFromJsonAsync<JsonElement>();
        using var asAdmin4 = _server.ClientWithToken(_idp.Mint("mallory-ext", Audience, new Dictionary<string, object> { ["amr"] = new[] { "pwd", "mfa" } }));
        var approved = await asAdmin4.PostAsync($"/api/v1/admin/role-grants/{requested.GetProperty("approvalId").GetString()}/approve", null);
        var ownMappingApproved = await admin.PostAsync($"/api/v1/admin/role-grants/{mapping.GetProperty("approvalId").GetString()}/approve", null);
        var listed = await admin4.GetFromJsonAsync<JsonElement>("/api/v1/admin/role-grants");

        Assert.Equal(HttpStatusCode.Accepted, mapped.StatusCode);
        Assert.Equal("pending-approval", mapping.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, approved.StatusCode);
        await ProblemAssert.IsProblemAsync(ownMappingApproved, HttpStatusCode.Forbidden);
        Assert.DoesNotContain("operator", await RolesAsync("crony"));
        Assert.Empty(await LoginsAsync("admin4"));
        var shown = listed.EnumerateArray().Single(g => g.GetProperty("id").GetString() == mapping.GetProperty("approvalId").GetString());
        Assert.Equal("external-identity", shown.GetProperty("role").GetString());
        Assert.Equal("mallory-ext", shown.GetProperty("externalIdentity").GetProperty("subject").GetString());
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "FSPER-2")]
    public async Task A_mapping_a_second_admin_approved_acts_as_the_account_and_a_pair_maps_to_one_account()
    {
        await _server.EnsureAccountAsync("admin6", "admin");
        await _server.EnsureAccountAsync("federated", "researcher");
        await _server.EnsureAccountAsync("federated2", "researcher");
        using var admin = await _identity.ClientForAsync("admin");
        using var admin6 = await _server.ClientForAccountAsync("admin6");

        var first = await (await admin.PostAsJsonAsync("/api/v1/admin/users/federated/external-identities", new { issuer = ExternalIssuer, subject = "federated-ext" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var second = await (await admin.PostAsJsonAsync("/api/v1/admin/users/federated2/external-identities", new { issuer = ExternalIssuer, subject = "federated-ext" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        using var federated = _server.ClientWithToken(_idp.Mint("federated-ext", Audience, new Dictionary<string, object> { ["amr"] = new[] { "pwd", "mfa" } }));
        var beforeApproval = await federated.GetAsync("/api/v1/account");
        var approved = await admin6.PostAsync($"/api/v1/admin/role-grants/{first.GetProperty("approvalId").GetString()}/approve", null);
        var me = await federated.GetFromJsonAsync<JsonElement>("/api/v1/account");
        var secondApproved = await admin6.PostAsync($"/api/v1/admin/role-grants/{second.GetProperty("approvalId").GetString()}/approve", null);

        Assert.Equal(HttpStatusCode.Unauthorized, beforeApproval.StatusCode);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal("federated", me.GetProperty("username").GetString());
        await ProblemAssert.IsProblemAsync(secondApproved, HttpStatusCode.Conflict);
        Assert.Equal([(ExternalIssuer, "federated-ext")], await LoginsAsync("federated"));
        Assert.Empty(await LoginsAsync("federated2"));
    }

    [Fact]
    [Trait("Requirement", "OPR-2")]
    [Trait("Requirement", "SDR-2")]
    public async Task One_admin_alone_cannot_remove_a_second_factor()
    {
        await _server.EnsureAccountAsync("mfa-asker", "admin");
        await _server.EnsureAccountAsync("mfa-second", "admin");
        await _server.EnsureAccountAsync("mfa-victim", "admin");
        using var asker = await _server.ClientForAccountAsync("mfa-asker");
        using var second = await _server.ClientForAccountAsync("mfa-second");
        using var victim = await _server.ClientForAccountAsync("mfa-victim");

        using var requested = await asker.PostAsync("/api/v1/admin/users/mfa-victim/reset-mfa", null);
        var approvalId = (await requested.Content.ReadFromJsonAsync<RoleChangeView>())!.ApprovalId!;
        using var again = await asker.PostAsync("/api/v1/admin/users/mfa-victim/reset-mfa", null);
        var afterRequest = await asker.GetFromJsonAsync<List<UserView>>("/api/v1/admin/users");
        using var victimStillIn = await victim.GetAsync("/api/v1/account");
        var listed = await second.GetFromJsonAsync<JsonElement>("/api/v1/admin/role-grants");
        using var byAsker = await asker.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        using var byVictim = await victim.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        var afterRefusals = await asker.GetFromJsonAsync<List<UserView>>("/api/v1/admin/users");
        using var approved = await second.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        var afterApproval = await asker.GetFromJsonAsync<List<UserView>>("/api/v1/admin/users");
        using var victimAfter = await victim.GetAsync("/api/v1/account");

        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        Assert.Equal(approvalId, (await again.Content.ReadFromJsonAsync<RoleChangeView>())!.ApprovalId);
        Assert.True(afterRequest!.Single(u => u.Username == "mfa-victim").MfaEnrolled);
        Assert.Equal(HttpStatusCode.OK, victimStillIn.StatusCode);
        Assert.Contains(listed.EnumerateArray(), g => g.GetProperty("id").GetString() == approvalId && g.GetProperty("role").GetString() == "mfa-reset");
        Assert.Equal(HttpStatusCode.Forbidden, byAsker.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byVictim.StatusCode);
        Assert.True(afterRefusals!.Single(u => u.Username == "mfa-victim").MfaEnrolled);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal("factor-removed", (await approved.Content.ReadFromJsonAsync<RoleChangeView>())!.Status);
        Assert.False(afterApproval!.Single(u => u.Username == "mfa-victim").MfaEnrolled);
        Assert.Equal(HttpStatusCode.Unauthorized, victimAfter.StatusCode);
        Assert.DoesNotContain("mfa-reset", await RolesAsync("mfa-victim"));
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("demote")]
    [Trait("Requirement", "OPR-2")]
    public async Task A_request_of_an_admin_who_is_no_longer_one_cannot_be_approved(string change)
    {
        await _server.EnsureAccountAsync("asker-" + change, "admin");
        await _server.EnsureAccountAsync("approver-" + change, "admin");
        await _server.EnsureAccountAsync("target-" + change);
        using var asker = await _server.ClientForAccountAsync("asker-" + change);
        using var approver = await _server.ClientForAccountAsync("approver-" + change);
        using var admin = await _identity.ClientForAsync("admin");

        var requested = await (await asker.PutAsync($"/api/v1/admin/users/target-{change}/roles/admin", null)).Content.ReadFromJsonAsync<JsonElement>();
        var removed = change == "disable"
            ? await admin.PostAsync($"/api/v1/admin/users/asker-{change}/disable", null)
            : await admin.DeleteAsync($"/api/v1/admin/users/asker-{change}/roles/admin");
        var offered = await approver.GetFromJsonAsync<JsonElement>("/api/v1/admin/role-grants");
        var approved = await approver.PostAsync($"/api/v1/admin/role-grants/{requested.GetProperty("approvalId").GetString()}/approve", null);
        var listed = await approver.GetFromJsonAsync<JsonElement>("/api/v1/admin/role-grants");

        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        var problem = await ProblemAssert.IsProblemAsync(approved, HttpStatusCode.Conflict);
        Assert.Equal(ErrorCodes.RequesterNoLongerAdmin, problem.GetProperty("code").GetString());
        Assert.DoesNotContain("admin", await RolesAsync("target-" + change));
        Assert.DoesNotContain(listed.EnumerateArray(), g => g.GetProperty("id").GetString() == requested.GetProperty("approvalId").GetString());
        // Not offered for approval once its asker left office, before anyone tries it.
        Assert.DoesNotContain(offered.EnumerateArray(), g => g.GetProperty("id").GetString() == requested.GetProperty("approvalId").GetString());
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task Concurrent_revocations_answer_revoked_only_for_a_role_that_is_gone()
    {
        using var admin = await _identity.ClientForAsync("admin");
        for (var round = 0; round < 8; round++)
        {
            var name = $"revoke-racer-{round}";
            await _server.EnsureAccountAsync(name, "researcher", "data-holder");

            var answers = await Task.WhenAll(
                admin.DeleteAsync($"/api/v1/admin/users/{name}/roles/researcher"),
                admin.DeleteAsync($"/api/v1/admin/users/{name}/roles/data-holder"));

            var held = await RolesAsync(name);
            await AssertAnsweredAsAppliedAsync(answers[0], "researcher", held, HttpStatusCode.OK, gone: true);
            await AssertAnsweredAsAppliedAsync(answers[1], "data-holder", held, HttpStatusCode.OK, gone: true);
        }
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task Concurrent_approvals_answer_granted_only_for_a_role_that_is_held()
    {
        await _server.EnsureAccountAsync("approver2", "admin");
        using var admin = await _identity.ClientForAsync("admin");
        using var approver = await _server.ClientForAccountAsync("approver2");
        for (var round = 0; round < 8; round++)
        {
            var name = $"approve-racer-{round}";
            await _server.EnsureAccountAsync(name);
            var hdab = await (await admin.PutAsync($"/api/v1/admin/users/{name}/roles/hdab", null)).Content.ReadFromJsonAsync<JsonElement>();
            var checker = await (await admin.PutAsync($"/api/v1/admin/users/{name}/roles/output-checker", null)).Content.ReadFromJsonAsync<JsonElement>();

            var answers = await Task.WhenAll(
                approver.PostAsync($"/api/v1/admin/role-grants/{hdab.GetProperty("approvalId").GetString()}/approve", null),
                approver.PostAsync($"/api/v1/admin/role-grants/{checker.GetProperty("approvalId").GetString()}/approve", null));

            var held = await RolesAsync(name);
            var pending = await PendingAsync(name);
            await AssertAnsweredAsAppliedAsync(answers[0], "hdab", held, HttpStatusCode.OK, gone: false);
            await AssertAnsweredAsAppliedAsync(answers[1], "output-checker", held, HttpStatusCode.OK, gone: false);
            // Note: a refused approval keeps nothing, not even the request's approval: it stays pending for another try.
            Assert.Equal(answers[0].IsSuccessStatusCode, !pending.Contains("hdab"));
            Assert.Equal(answers[1].IsSuccessStatusCode, !pending.Contains("output-checker"));
        }
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task Concurrent_requests_for_two_roles_the_table_forbids_together_never_leave_both_pending()
    {
        using var admin = await _identity.ClientForAsync("admin");
        for (var round = 0; round < 8; round++)
        {
            var name = $"pair-racer-{round}";
            await _server.EnsureAccountAsync(name);

            var answers = await Task.WhenAll(
                admin.PutAsync($"/api/v1/admin/users/{name}/roles/operator", null),
                admin.PutAsync($"/api/v1/admin/users/{name}/roles/hdab", null));

            var pending = await PendingAsync(name);
            Assert.False(pending.Contains("operator") && pending.Contains("hdab"), $"round {round}: both operator and hdab are pending");
            Assert.False(answers.All(a => a.StatusCode == HttpStatusCode.Accepted), $"round {round}: both requests were accepted");
            foreach (var (answer, role) in answers.Zip(["operator", "hdab"]))
            {
                Assert.Equal(answer.StatusCode == HttpStatusCode.Accepted, pending.Contains(role));
                if (answer.StatusCode == HttpStatusCode.Conflict)
                {
                    Assert.Equal(ErrorCodes.AccountChanged, (await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.Conflict)).GetProperty("code").GetString());
                }
                else if (answer.StatusCode != HttpStatusCode.Accepted)
                {
                    await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.Forbidden);
                }
            }
        }
    }

    /// <summary>A success answer only for a change that happened; otherwise the 409 with its own code and the change not made.</summary>
    private static async Task AssertAnsweredAsAppliedAsync(HttpResponseMessage answer, string role, string[] held, HttpStatusCode success, bool gone)
    {
        if (answer.StatusCode == success)
        {
            Assert.True(gone != held.Contains(role), $"answered {(int)success} for {role}, but the account holds [{string.Join(", ", held)}]");
        }
        else
        {
            var problem = await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.Conflict);
            Assert.Equal(ErrorCodes.AccountChanged, problem.GetProperty("code").GetString());
            Assert.True(gone == held.Contains(role), $"refused {role}, but the change was made: [{string.Join(", ", held)}]");
        }
    }

    /// <summary>Uses a new account's enrolment link as whoever holds it would: sets a password, enrols TOTP, signs in with both.</summary>
    private async Task<HttpClient> ActivateAsync(string enrolmentUrl, string username)
    {
        var token = System.Web.HttpUtility.ParseQueryString(new Uri(enrolmentUrl).Query)["token"]!;
        const string password = "Violet-Ledger-Orchard-Nine-58";
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsJsonAsync("/api/v1/account/activate", new { token, password })).StatusCode);
        var (passwordOnly, _) = await IdentityClient.TokensAsync(await _identity.PasswordGrantAsync(username, password, null));
        using var enrolling = _server.ClientWithToken(passwordOnly);
        var secret = (await (await enrolling.PostAsync("/api/v1/account/totp", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await enrolling.PostAsJsonAsync("/api/v1/account/totp/confirm", new { code = _identity.NextCode(secret) })).StatusCode);
        var (access, _) = await IdentityClient.TokensAsync(await _identity.PasswordGrantAsync(username, password, _identity.NextCode(secret)));
        return _server.ClientWithToken(access);
    }

    private async Task<string> IssueNamingExternalAsync(string subject)
    {
        using var hdab = await _server.ClientForAccountAsync("hdab");
        var document = PermitFixture.Document(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), "HDAB-TAKEOVER-1");
        document["dataUsers"] = new[] { new { issuer = ExternalIssuer, subject } };
        var response = await hdab.PostAsJsonAsync("/api/v1/permits", document);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!;
    }

    /// <summary>Maps an external identity as <paramref name="admin"/> asks and <paramref name="approver"/> approves.</summary>
    private static async Task MapApprovedAsync(HttpClient admin, HttpClient approver, string username, string subject)
    {
        var requested = await admin.PostAsJsonAsync($"/api/v1/admin/users/{username}/external-identities", new { issuer = ExternalIssuer, subject });
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var id = (await requested.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString();
        Assert.Equal(HttpStatusCode.OK, (await approver.PostAsync($"/api/v1/admin/role-grants/{id}/approve", null)).StatusCode);
    }

    private async Task<List<(string Issuer, string Subject)>> LoginsAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
        return [.. (await users.GetLoginsAsync((await users.FindByNameAsync(username))!)).Select(l => (l.LoginProvider, l.ProviderKey))];
    }

    private async Task<string[]> RolesAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
        return [.. (await users.GetRolesAsync((await users.FindByNameAsync(username))!)).Order(StringComparer.Ordinal)];
    }

    private async Task<HashSet<string>> PendingAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
        var id = (await users.FindByNameAsync(username))!.Id;
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        return [.. database.RoleGrantRequests.Where(r => r.UserId == id && r.Status == "pending").Select(r => r.Role)];
    }
}
