using System.Net;
using System.Reflection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>
/// A browser that opens the server's root gets a plain page saying what this is and where to go, not a raw
/// 401 problem (issue #12); signing in on the sign-in page without a return address lands there, signed in.
/// </summary>
public sealed class LandingPageTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private static readonly string Version =
        typeof(ServerEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

    [Fact]
    public async Task Root_shows_the_product_its_version_and_where_to_go_to_anyone()
    {
        using var response = await shared.Server.Client.GetAsync(new Uri("/", UriKind.Relative));
        var html = await TestBrowser.PageAsync(response);

        Assert.Contains("<h1>OpenSPE</h1>", html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(Version), html, StringComparison.Ordinal);
        Assert.Contains("spe login --server " + shared.Server.BaseAddress.GetLeftPart(UriPartial.Authority), html, StringComparison.Ordinal);
        Assert.Contains("You are not signed in.", html, StringComparison.Ordinal);
        // Note: the portal's front page has one script, its own file (CSP script-src 'self'); never an inline one.
        Assert.DoesNotMatch("<script(?![^>]*src=\"/portal/portal.js\")", html);
        Assert.StartsWith("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signing_in_on_the_sign_in_page_lands_on_the_root_signed_in()
    {
        var identity = new IdentityClient(shared.Server);
        var account = identity.Account("researcher2");
        using var browser = new TestBrowser(shared.Server);

        using var page = await browser.GetAsync("/account/login");
        using var signedIn = await browser.SubmitLoginAsync(page, account.Username, account.Password, identity.NextCode(account.TotpSecret));
        using var landing = await browser.FollowAsync(signedIn);
        var html = await TestBrowser.PageAsync(landing);

        Assert.Equal("/", browser.Location(signedIn).AbsolutePath);
        Assert.Contains("Signed in as <strong>researcher2</strong>.", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_session_cookie_is_not_greeted()
    {
        using var browser = new TestBrowser(shared.Server);
        browser.Cookies.Add(shared.Server.BaseAddress, new Cookie(TestBrowser.SessionCookie, "CfDJ8forged-value"));

        using var response = await browser.GetAsync("/");
        var html = await TestBrowser.PageAsync(response);

        Assert.Contains("You are not signed in.", html, StringComparison.Ordinal);
    }
}
