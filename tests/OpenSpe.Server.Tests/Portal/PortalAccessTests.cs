using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The portal's access through the real HTTP pipeline: sign-in by code + PKCE, the cookie session, the same answers as the
/// API (non-members see no trace, halted projects say so, revoked people lose the portal), anti-forgery on forms and the
/// strict Content-Security-Policy on every page (TIR-9, TIR-22, EHDSR-5, OPR-20).
/// </summary>
public sealed partial class PortalAccessTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _mine = null!;
    private string _theirs = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        (_, _mine) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-MINE", "researcher"));
        (_, _theirs) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-THEIRS", "researcher2"));
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Front_page_signed_out_offers_a_sign_in_link_under_the_strict_policy()
    {
        using var portal = new PortalBrowser(_f.Server);

        using var response = await portal.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("href=\"/portal/signin\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/projects", html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Sign_in_by_code_and_pkce_starts_a_strict_http_only_session_and_shows_the_roles_pages()
    {
        using var portal = new PortalBrowser(_f.Server);

        using var home = await portal.SignInAsync("researcher");
        var html = await home.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var cookie = Assert.Single(portal.SessionSetCookies, c => c.StartsWith(PortalBrowser.PortalCookie + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Signed in as researcher", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/projects\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/permits\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/audit\"", html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Callback_with_a_state_that_is_not_the_browsers_is_refused_and_starts_no_session()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var start = await portal.GetAsync("/portal/signin");

        using var callback = await portal.GetAsync("/portal/callback?code=forged&state=forged");

        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
        Assert.Contains("SPE6400", await callback.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(portal.HasPortalSession);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-3")]
    public async Task My_projects_lists_only_the_projects_whose_permit_names_the_person()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("researcher");

        using var response = await portal.GetAsync("/projects");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("HDAB-PORTAL-MINE", html, StringComparison.Ordinal);
        Assert.Contains("/projects/" + _mine, html, StringComparison.Ordinal);
        Assert.DoesNotContain("HDAB-PORTAL-THEIRS", html, StringComparison.Ordinal);
        Assert.DoesNotContain(_theirs, html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-3")]
    public async Task Non_member_gets_the_same_404_page_as_for_a_project_that_does_not_exist()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("researcher");

        using var theirs = await portal.GetAsync("/projects/" + _theirs);
        using var none = await portal.GetAsync("/projects/no-such-project");
        var theirsHtml = await theirs.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal(MainOf(await none.Content.ReadAsStringAsync()), MainOf(theirsHtml));
        Assert.DoesNotContain("HDAB-PORTAL-THEIRS", theirsHtml, StringComparison.Ordinal);
        // Every page under the project answers the same: no trace of it, as for one that does not exist.
        foreach (var path in new[] { "/jobs", "/jobs/job-none", "/exports", "/exports/exp-none", "/imports", "/imports/imp-none", "/files" })
        {
            using var theirsPage = await portal.GetAsync($"/projects/{_theirs}{path}");
            using var nonePage = await portal.GetAsync($"/projects/no-such-project{path}");
            var theirsPageHtml = await theirsPage.Content.ReadAsStringAsync();

            Assert.True(theirsPage.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)theirsPage.StatusCode}");
            Assert.Equal(MainOf(await nonePage.Content.ReadAsStringAsync()), MainOf(theirsPageHtml));
            Assert.DoesNotContain("HDAB-PORTAL-THEIRS", theirsPageHtml, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task Halted_project_page_says_it_is_halted_and_offers_nothing_else()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("researcher");
        using var before = await portal.GetAsync("/projects/" + _mine);
        using var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _mine, reason = "suspected exfiltration" });

        using var after = await portal.GetAsync("/projects/" + _mine);
        var html = await after.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Contains("open the desktop", await before.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal((HttpStatusCode)423, after.StatusCode);
        Assert.Contains("This project is halted", html, StringComparison.Ordinal);
        Assert.Contains("class=\"banner halted\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("open the desktop", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/jobs", html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Disabled_person_loses_the_portal_at_the_next_request()
    {
        await _f.Server.EnsureAccountAsync("portal-leaver", "researcher");
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("portal-leaver");
        using var before = await portal.GetAsync("/projects");
        using var admin = await _f.Server.ClientForAccountAsync("admin");
        using var disabled = await admin.PostAsync("/api/v1/admin/users/portal-leaver/disable", null);

        using var after = await portal.GetAsync("/projects");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/portal/signin", portal.Browser.Location(after).AbsolutePath);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task A_portal_session_ended_from_another_sign_in_loses_the_portal_at_the_next_request()
    {
        await _f.Server.EnsureAccountAsync("portal-ended", "researcher");
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("portal-ended");
        using var before = await portal.GetAsync("/projects");
        using var cli = await _f.Server.ClientForAccountAsync("portal-ended");
        var sessions = await cli.GetFromJsonAsync<List<AccountSessionView>>("/api/v1/account/sessions");
        var portalSession = Assert.Single(sessions!, s => s.ClientId == "spe-portal");
        using var ended = await cli.DeleteAsync("/api/v1/account/sessions/" + Uri.EscapeDataString(portalSession.Id));

        using var after = await portal.GetAsync("/projects");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/portal/signin", portal.Browser.Location(after).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, (await cli.GetAsync("/api/v1/account")).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Sign_out_ends_the_session_on_the_server_so_a_copied_cookie_is_refused()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var home = await portal.SignInAsync("researcher2");
        var html = await home.Content.ReadAsStringAsync();
        // Note: the cookie holds the tokens, so it comes in chunks (__Host-spe-portal, then ...C1, ...C2): all are copied.
        var copied = portal.Browser.Cookies.GetCookies(_f.Server.BaseAddress).Where(c => c.Name.StartsWith(PortalBrowser.PortalCookie, StringComparison.Ordinal)).ToList();

        using var replay = new PortalBrowser(_f.Server);
        foreach (var cookie in copied)
        {
            replay.Browser.Cookies.Add(_f.Server.BaseAddress, new Cookie(cookie.Name, cookie.Value, "/") { Secure = true });
        }

        using var copyWorks = await replay.GetAsync("/projects");
        using var signedOut = await portal.SubmitAsync(html, "/signout");
        using var replayed = await replay.GetAsync("/projects");

        Assert.Equal(HttpStatusCode.OK, copyWorks.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal("/", signedOut.Headers.Location?.OriginalString);
        Assert.False(portal.HasPortalSession);
        Assert.Equal(HttpStatusCode.Redirect, replayed.StatusCode);
        Assert.Equal("/portal/signin", replay.Browser.Location(replayed).AbsolutePath);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Forms_without_the_anti_forgery_token_are_refused_with_400_and_change_nothing()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("researcher");

        using var signOut = await portal.Browser.PostFormAsync("/signout", []);
        using var desktop = await portal.Browser.PostFormAsync($"/projects/{_mine}?handler=Desktop", []);
        using var still = await portal.GetAsync("/projects");

        Assert.Equal(HttpStatusCode.BadRequest, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, desktop.StatusCode);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Every_portal_page_sends_the_strict_content_security_policy()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("researcher");

        foreach (var path in new[] { "/", "/projects", "/projects/" + _mine, "/projects/" + _theirs })
        {
            using var response = await portal.GetAsync(path);
            var policy = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Equal(PortalHeaders.ContentSecurityPolicy, policy);
            Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
            Assert.DoesNotMatch("<script(?![^>]*src=\"/portal/)", await response.Content.ReadAsStringAsync());
        }
    }

    private static string MainOf(string html) => MainPattern().Match(html).Value;

    [GeneratedRegex("<main[^>]*>.*</main>", RegexOptions.Singleline)]
    private static partial Regex MainPattern();
}
