using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The admin's accounts page with external identities (FSPER-2): each account lists the (issuer, subject) pairs mapped to it;
/// an admin maps one from a configured provider and removes it again, through the admin API, so its rules hold: only a
/// configured issuer (its refusal shown at the issuer), a subject is required (shown at the subject), a pair maps to one
/// account, nobody changes their own account, every other role is refused, and a form without its anti-forgery token is refused.
/// </summary>
public sealed class PortalExternalIdentityTests : IAsyncLifetime
{
    private const string Issuer = "https://idp.portal.example/";
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["ExternalIdentity:Providers:0:Issuer"] = Issuer,
        ["ExternalIdentity:Providers:0:Audience"] = "openspe",
        // Note: never fetched: no token of this provider is presented here; the page needs only the configured issuer.
        ["ExternalIdentity:Providers:0:JwksUrl"] = "https://idp.portal.example/jwks",
    });

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "TIR-22")]
    public async Task Admin_maps_an_external_identity_from_the_configured_provider_sees_it_listed_and_removes_it()
    {
        await _server.EnsureAccountAsync("portal-ext-person", "researcher");
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal);

        using var requested = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "portal-ext-person"), ("issuer", Issuer), ("subject", "person-at-idp"), ("change", "map"));
        var requestedHtml = WebUtility.HtmlDecode(await requested.Content.ReadAsStringAsync());
        var loginsBeforeApproval = await LoginsAsync("portal-ext-person");
        await ApprovePendingMappingsAsync();
        var mappedHtml = await PageAsync(portal);
        var logins = await LoginsAsync("portal-ext-person");
        using var removed = await portal.SubmitAsync(mappedHtml, "/admin/accounts?handler=External",
            ("username", "portal-ext-person"), ("issuer", Issuer), ("subject", "person-at-idp"), ("change", "unmap"));
        var removedHtml = WebUtility.HtmlDecode(await removed.Content.ReadAsStringAsync());

        Assert.Contains($"<option value=\"{Issuer}\">{Issuer}</option>", page, StringComparison.Ordinal);
        Assert.Contains("<label for=\"subject-u-portal-ext-person\">", page, StringComparison.Ordinal);
        Assert.True(requested.StatusCode == HttpStatusCode.OK, requestedHtml);
        Assert.Contains($"Mapping the external identity person-at-idp at {Issuer} to portal-ext-person waits for a second admin's approval", requestedHtml, StringComparison.Ordinal);
        Assert.Contains($"external-identity: person-at-idp at {Issuer}", requestedHtml, StringComparison.Ordinal);
        Assert.Empty(loginsBeforeApproval);
        Assert.Contains("aria-label=\"Remove the external identity person-at-idp at " + Issuer + " from portal-ext-person\"", mappedHtml, StringComparison.Ordinal);
        Assert.Equal([(Issuer, "person-at-idp")], logins);
        Assert.True(removed.StatusCode == HttpStatusCode.OK, removedHtml);
        Assert.Contains("is no longer mapped to portal-ext-person", removedHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("aria-label=\"Remove the external identity person-at-idp", removedHtml, StringComparison.Ordinal);
        Assert.Empty(await LoginsAsync("portal-ext-person"));
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task A_missing_subject_and_an_issuer_not_configured_are_shown_at_their_inputs_with_400_and_nothing_is_mapped()
    {
        await _server.EnsureAccountAsync("portal-ext-typo", "researcher");
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal);

        using var noSubject = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "portal-ext-typo"), ("issuer", Issuer), ("subject", ""), ("change", "map"));
        using var otherIssuer = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "portal-ext-typo"), ("issuer", "https://elsewhere.example/"), ("subject", "typed-subject"), ("change", "map"));
        var noSubjectHtml = WebUtility.HtmlDecode(await noSubject.Content.ReadAsStringAsync());
        var otherIssuerHtml = WebUtility.HtmlDecode(await otherIssuer.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, noSubject.StatusCode);
        Assert.Contains("<p id=\"subject-u-portal-ext-typo-error\" class=\"field-error\">", noSubjectHtml, StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"subject-u-portal-ext-typo-error\" aria-invalid=\"true\"", noSubjectHtml, StringComparison.Ordinal);
        Assert.Contains("The external identity was not mapped", noSubjectHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, otherIssuer.StatusCode);
        Assert.Contains("<p id=\"issuer-u-portal-ext-typo-error\" class=\"field-error\">The issuer is not one of the configured external identity providers", otherIssuerHtml, StringComparison.Ordinal);
        Assert.Contains("value=\"typed-subject\"", otherIssuerHtml, StringComparison.Ordinal);
        Assert.Empty(await LoginsAsync("portal-ext-typo"));
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "SDR-2")]
    public async Task One_pair_maps_to_one_account_your_own_account_is_refused_and_a_forged_form_changes_nothing()
    {
        await _server.EnsureAccountAsync("portal-ext-first", "researcher");
        await _server.EnsureAccountAsync("portal-ext-second", "researcher");
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync("admin");
        var page = await PageAsync(portal);
        using var first = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "portal-ext-first"), ("issuer", Issuer), ("subject", "shared-subject"), ("change", "map"));
        await ApprovePendingMappingsAsync();

        using var second = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "portal-ext-second"), ("issuer", Issuer), ("subject", "shared-subject"), ("change", "map"));
        using var own = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "admin"), ("issuer", Issuer), ("subject", "admin-at-idp"), ("change", "map"));
        using var unknownChange = await portal.SubmitAsync(page, "/admin/accounts?handler=External",
            ("username", "portal-ext-first"), ("issuer", Issuer), ("subject", "x"), ("change", "steal"));
        using var forged = await portal.Browser.PostFormAsync("/admin/accounts?handler=External",
            [new("username", "portal-ext-first"), new("issuer", Issuer), new("subject", "shared-subject"), new("change", "unmap")]);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains("already mapped to an account", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await LoginsAsync("portal-ext-second"));
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("You cannot change your own account here", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await LoginsAsync("admin"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownChange.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal([(Issuer, "shared-subject")], await LoginsAsync("portal-ext-first"));
    }

    [Theory]
    [InlineData("operator")]
    [InlineData("auditor")]
    [InlineData("researcher")]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "TIR-22")]
    public async Task Every_other_role_posting_the_form_gets_403_and_nothing_is_mapped(string username)
    {
        await _server.EnsureAccountAsync("portal-ext-target", "data-holder");
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync(username);
        // Note: the person's own page carries a valid anti-forgery token for their session; only the API's role rule stops them.
        using var ownPage = await portal.GetAsync("/account");
        var html = await ownPage.Content.ReadAsStringAsync();

        using var map = await portal.SubmitAsync(html, "/admin/accounts?handler=External",
            ("username", "portal-ext-target"), ("issuer", Issuer), ("subject", "by-" + username), ("change", "map"));

        Assert.Equal(HttpStatusCode.Forbidden, map.StatusCode);
        Assert.DoesNotContain(Issuer, await map.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await LoginsAsync("portal-ext-target"));
    }

    /// <summary>A second admin approves every mapping waiting (one admin alone never maps an identity).</summary>
    private async Task ApprovePendingMappingsAsync()
    {
        await _server.EnsureAccountAsync("portal-ext-approver", "admin");
        using var approver = await _server.ClientForAccountAsync("portal-ext-approver");
        var pending = await approver.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/admin/role-grants");
        foreach (var grant in pending.EnumerateArray().Where(g => g.GetProperty("role").GetString() == "external-identity"))
        {
            using var approved = await approver.PostAsync($"/api/v1/admin/role-grants/{grant.GetProperty("id").GetString()}/approve", null);
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }
    }

    private static async Task<string> PageAsync(PortalBrowser portal)
    {
        using var response = await portal.GetAsync("/admin/accounts");
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        return WebUtility.HtmlDecode(html);
    }

    private async Task<List<(string Issuer, string Subject)>> LoginsAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var user = await users.FindByNameAsync(username) ?? throw new InvalidOperationException("no account " + username);
        return [.. (await users.GetLoginsAsync(user)).Select(l => (l.LoginProvider, l.ProviderKey))];
    }
}
