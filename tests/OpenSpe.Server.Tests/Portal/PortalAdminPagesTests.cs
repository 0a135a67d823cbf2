using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The admin's pages through the real HTTP pipeline: accounts (create with a one-time enrolment link, disable, roles with
/// the four-eyes approval and the separation-of-duties table) and applications (registered with a secret shown once, which
/// then works at the token endpoint, and deleted). Each change is the admin API's, so its refusals hold in the browser too:
/// nobody changes their own account, the asker never approves their own grant, a forbidden pair of roles is refused, and
/// every other role is refused the pages and their forms (TIR-22, SDR-2, OPR-2).
/// </summary>
public sealed class PortalAdminPagesTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private SpeTestServer Server => shared.Server;

    [Theory]
    [InlineData("/admin/accounts", "Grants waiting for a second admin")]
    [InlineData("/admin/applications", "Register an application")]
    [Trait("Requirement", "TIR-22")]
    public async Task Admin_pages_answer_the_admin_under_the_strict_policy(string path, string expected)
    {
        using var portal = new PortalBrowser(Server);
        using var home = await portal.SignInAsync("admin");
        var homeHtml = await home.Content.ReadAsStringAsync();

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains(expected, html, StringComparison.Ordinal);
        Assert.Contains($"href=\"{path}\"", homeHtml, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("researcher", "/admin/accounts")]
    [InlineData("operator", "/admin/accounts")]
    [InlineData("hdab", "/admin/accounts")]
    [InlineData("auditor", "/admin/accounts")]
    [InlineData("checker", "/admin/applications")]
    [InlineData("holder", "/admin/applications")]
    [InlineData("operator", "/admin/applications")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "SDR-2")]
    public async Task Admin_pages_refuse_every_other_role_with_the_apis_403_and_show_no_account(string username, string path)
    {
        using var portal = new PortalBrowser(Server);
        using var home = await portal.SignInAsync(username);
        var homeHtml = await home.Content.ReadAsStringAsync();

        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Not allowed", html, StringComparison.Ordinal);
        Assert.DoesNotContain("auditor</th>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/admin/", homeHtml, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task Admin_creates_an_account_and_sees_its_one_time_enrolment_link_only_in_the_answer_to_that_form()
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal, "/admin/accounts");

        using var created = await portal.SubmitAsync(page, "/admin/accounts?handler=Create", ("username", "portal-new-person"), ("roles", "researcher"));
        var html = await created.Content.ReadAsStringAsync();
        var again = await PageAsync(portal, "/admin/accounts");

        Assert.True(created.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("Account portal-new-person is created", html, StringComparison.Ordinal);
        var link = System.Text.RegularExpressions.Regex.Match(html, "<code class=\"secret\">([^<]+)</code>").Groups[1].Value;
        Assert.Contains("/account/activate?token=", WebUtility.HtmlDecode(link), StringComparison.Ordinal);
        Assert.DoesNotContain(link, again, StringComparison.Ordinal);
        Assert.Contains("portal-new-person", again, StringComparison.Ordinal);
        var (exists, roles, hasPassword, _) = await AccountAsync("portal-new-person");
        Assert.True(exists);
        Assert.Equal(["researcher"], roles);
        Assert.False(hasPassword);
    }

    [Fact]
    [Trait("Requirement", "OPR-2")]
    [Trait("Requirement", "SDR-2")]
    public async Task A_high_privilege_grant_waits_for_a_second_admin_the_asker_cannot_approve_it_and_the_second_admin_does()
    {
        await Server.EnsureAccountAsync("portal-op-candidate");
        await Server.EnsureAccountAsync("portal-admin-two", "admin");
        using var first = new PortalBrowser(Server);
        using var _ = await first.SignInAsync("admin");
        var page = await PageAsync(first, "/admin/accounts");

        using var asked = await first.SubmitAsync(page, "/admin/accounts?handler=Role", ("username", "portal-op-candidate"), ("role", "operator"), ("change", "grant"));
        var askedHtml = await asked.Content.ReadAsStringAsync();
        Assert.Contains("Granting operator to portal-op-candidate waits for a second admin", askedHtml, StringComparison.Ordinal);
        Assert.Empty((await AccountAsync("portal-op-candidate")).Roles);
        var grantId = PendingGrantId(askedHtml, "portal-op-candidate");

        using var selfApproved = await first.SubmitAsync(askedHtml, "/admin/accounts?handler=Approve", ("id", grantId));
        var selfHtml = await selfApproved.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, selfApproved.StatusCode);
        Assert.Contains("A different admin must approve", selfHtml, StringComparison.Ordinal);
        Assert.Contains("portal-op-candidate", selfHtml, StringComparison.Ordinal);
        Assert.Empty((await AccountAsync("portal-op-candidate")).Roles);

        using var second = new PortalBrowser(Server);
        using var __ = await second.SignInAsync("portal-admin-two");
        var secondPage = await PageAsync(second, "/admin/accounts");
        using var approved = await second.SubmitAsync(secondPage, "/admin/accounts?handler=Approve", ("id", grantId));

        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Contains("The grant is approved and in force.", await approved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["operator"], (await AccountAsync("portal-op-candidate")).Roles);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task A_forbidden_pair_of_roles_your_own_account_and_a_malformed_name_are_refused_with_the_apis_reason_and_change_nothing()
    {
        await Server.EnsureAccountAsync("portal-pair-researcher", "researcher");
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal, "/admin/accounts");

        // Note: the page offers no change to one's own account; the form is posted anyway, as a crafted request would be.
        Assert.DoesNotContain("aria-label=\"Disable admin\"", page, StringComparison.Ordinal);
        Assert.Contains("aria-label=\"Disable portal-pair-researcher\"", page, StringComparison.Ordinal);
        using var pair = await portal.SubmitAsync(page, "/admin/accounts?handler=Role", ("username", "portal-pair-researcher"), ("role", "hdab"), ("change", "grant"));
        using var own = await portal.SubmitAsync(page, "/admin/accounts?handler=Account", ("username", "admin"), ("change", "disable"));
        using var malformed = await portal.SubmitAsync(page, "/admin/accounts?handler=Create", ("username", "Not A Name"), ("roles", "researcher"));
        using var unknownChange = await portal.SubmitAsync(page, "/admin/accounts?handler=Account", ("username", "portal-pair-researcher"), ("change", "delete"));

        Assert.Equal(HttpStatusCode.Forbidden, pair.StatusCode);
        Assert.Contains("cannot be held by one person", await pair.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["researcher"], (await AccountAsync("portal-pair-researcher")).Roles);
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("You cannot change your own account here", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await AccountAsync("admin")).Disabled);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("lower-case letters", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await AccountAsync("Not A Name")).Exists);
        Assert.Equal(HttpStatusCode.BadRequest, unknownChange.StatusCode);
        Assert.False((await AccountAsync("portal-pair-researcher")).Disabled);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task A_non_admin_posting_the_admin_forms_is_refused_with_403_and_nothing_changes()
    {
        await Server.EnsureAccountAsync("portal-target", "researcher");
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("operator");
        // Note: the operator's own page carries a valid anti-forgery token for their session; only the API's role rule stops them.
        var own = await PageAsync(portal, "/account");

        using var create = await portal.SubmitAsync(own, "/admin/accounts?handler=Create", ("username", "portal-by-operator"), ("roles", "researcher"));
        using var disable = await portal.SubmitAsync(own, "/admin/accounts?handler=Account", ("username", "portal-target"), ("change", "disable"));
        using var grant = await portal.SubmitAsync(own, "/admin/accounts?handler=Role", ("username", "portal-target"), ("role", "data-holder"), ("change", "grant"));
        using var register = await portal.SubmitAsync(own, "/admin/applications?handler=Create", ("clientId", "by-operator"));

        Assert.All([create, disable, grant, register], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.False((await AccountAsync("portal-by-operator")).Exists);
        var target = await AccountAsync("portal-target");
        Assert.False(target.Disabled);
        Assert.Equal(["researcher"], target.Roles);
        Assert.DoesNotContain("by-operator", await ClientIdsAsync());
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task An_admin_form_without_its_anti_forgery_token_is_refused_and_nothing_changes()
    {
        await Server.EnsureAccountAsync("portal-csrf-target", "researcher");
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("admin");

        using var forged = await portal.Browser.PostFormAsync("/admin/accounts?handler=Account",
            [new("username", "portal-csrf-target"), new("change", "disable")]);

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.False((await AccountAsync("portal-csrf-target")).Disabled);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task Admin_disables_and_enables_another_account_from_the_page()
    {
        await Server.EnsureAccountAsync("portal-leaver-two", "data-holder");
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal, "/admin/accounts");

        using var disabled = await portal.SubmitAsync(page, "/admin/accounts?handler=Account", ("username", "portal-leaver-two"), ("change", "disable"));
        Assert.Contains("portal-leaver-two is disabled", await disabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True((await AccountAsync("portal-leaver-two")).Disabled);

        using var enabled = await portal.SubmitAsync(page, "/admin/accounts?handler=Account", ("username", "portal-leaver-two"), ("change", "enable"));
        Assert.Contains("portal-leaver-two is enabled again", await enabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await AccountAsync("portal-leaver-two")).Disabled);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task Admin_registers_an_application_whose_secret_is_shown_once_and_works_then_deletes_it_and_it_stops()
    {
        using var portal = new PortalBrowser(Server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal, "/admin/applications");

        using var created = await portal.SubmitAsync(page, "/admin/applications?handler=Create", ("clientId", "portal-analytics"), ("displayName", "Analytics runner"));
        var html = await created.Content.ReadAsStringAsync();
        var secret = WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "<code class=\"secret\">([^<]+)</code>").Groups[1].Value);
        var listed = await PageAsync(portal, "/admin/applications");

        Assert.True(created.StatusCode == HttpStatusCode.OK, html);
        Assert.NotEmpty(secret);
        Assert.Contains("Analytics runner", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ClientCredentialsAsync("portal-analytics", secret));

        using var duplicate = await portal.SubmitAsync(listed, "/admin/applications?handler=Create", ("clientId", "portal-analytics"));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Contains("already exists", await duplicate.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var deleted = await portal.SubmitAsync(listed, "/admin/applications?handler=Delete", ("clientId", "portal-analytics"));
        Assert.Contains("Application portal-analytics is deleted", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("portal-analytics", await ClientIdsAsync());
        Assert.NotEqual(HttpStatusCode.OK, await ClientCredentialsAsync("portal-analytics", secret));
    }

    private static async Task<string> PageAsync(PortalBrowser portal, string path)
    {
        using var response = await portal.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {html}");
        return html;
    }

    private static string PendingGrantId(string html, string username)
    {
        // The pending grants table: the grantee's row carries the approve form with the grant's id.
        var row = html[html.IndexOf("<td>" + username + "</td>", StringComparison.Ordinal)..];
        var match = System.Text.RegularExpressions.Regex.Match(row, "name=\"id\" value=\"([^\"]+)\"");
        Assert.True(match.Success, "no pending grant for " + username);
        return match.Groups[1].Value;
    }

    private async Task<(bool Exists, List<string> Roles, bool HasPassword, bool Disabled)> AccountAsync(string username)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var user = await users.FindByNameAsync(username);
        return user is null
            ? (false, [], false, false)
            : (true, [.. (await users.GetRolesAsync(user)).Order(StringComparer.Ordinal)], user.PasswordHash is not null, user.Disabled);
    }

    private async Task<List<string>> ClientIdsAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<OpenIddict.Abstractions.IOpenIddictApplicationManager>();
        var ids = new List<string>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, CancellationToken.None))
        {
            ids.Add((await applications.GetClientIdAsync(application))!);
        }

        return ids;
    }

    private async Task<HttpStatusCode> ClientCredentialsAsync(string clientId, string secret)
    {
        using var response = await Server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));
        return response.StatusCode;
    }
}
