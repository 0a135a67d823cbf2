using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// Everyone's account page through the real HTTP pipeline: their sessions (end one, end the others), a new second factor
/// (its URI as text and as a server-drawn QR code), a new password (the policy's errors at the field), all through the
/// account API with the person's own token (EHDSR-5, TIR-22, TIR-24).
/// </summary>
public sealed partial class PortalAccountPageTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly SpeTestServer _server = shared.Server;

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Signed_out_the_account_page_sends_to_the_sign_in()
    {
        using var portal = new PortalBrowser(_server);

        using var response = await portal.GetAsync("/account");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/portal/signin", portal.Browser.Location(response).AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-24")]
    public async Task Person_sees_own_sessions_and_ends_another_from_the_page()
    {
        await _server.EnsureAccountAsync("pacc-sessions", "researcher");
        var (_, cliRefresh) = await _server.SignInAsync("pacc-sessions");
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync("pacc-sessions");

        using var page = await portal.GetAsync("/account");
        var html = await page.Content.ReadAsStringAsync();
        var ids = SessionIdPattern().Matches(html).Select(m => m.Groups["id"].Value).ToList();
        using var ended = await portal.SubmitAsync(html, "/account?handler=EndSession", ("id", WebUtility.HtmlDecode(Assert.Single(ids))));
        using var after = await portal.GetAsync("/account");
        var afterHtml = await after.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("This session", html, StringComparison.Ordinal);
        Assert.Contains("spe-cli", html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.Empty(SessionIdPattern().Matches(afterHtml));
        Assert.Equal(HttpStatusCode.BadRequest, (await RefreshAsync(cliRefresh)).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Ending_another_persons_session_from_the_page_is_refused_and_ends_nothing()
    {
        await _server.EnsureAccountAsync("pacc-victim", "researcher");
        await _server.EnsureAccountAsync("pacc-attacker", "researcher");
        var (victimToken, victimRefresh) = await _server.SignInAsync("pacc-victim");
        using var victim = _server.ClientWithToken(victimToken);
        var victimId = (await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<List<AccountSessionView>>(victim, "/api/v1/account/sessions"))!.Single().Id;
        using var portal = new PortalBrowser(_server);
        using var home = await portal.SignInAsync("pacc-attacker", "/account");
        var html = await home.Content.ReadAsStringAsync();

        using var refused = await portal.SubmitAsync(html, "/account?handler=EndSession", ("id", victimId));
        using var noToken = await portal.Browser.PostFormAsync("/account?handler=EndSession", [new("id", victimId)]);

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains("role=\"alert\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(victimRefresh)).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task New_second_factor_shows_its_uri_and_a_qr_code_and_a_wrong_code_is_refused_at_the_field()
    {
        await _server.EnsureAccountAsync("pacc-totp", "researcher");
        var (_, cliRefresh) = await _server.SignInAsync("pacc-totp");
        using var portal = new PortalBrowser(_server);
        using var home = await portal.SignInAsync("pacc-totp", "/account");
        var html = await home.Content.ReadAsStringAsync();

        // An enrolled factor is replaced only with the current password as well as the session.
        using var noPassword = await portal.SubmitAsync(html, "/account?handler=BeginTotp", ("password", "not-the-password-at-all"));
        var noPasswordHtml = await noPassword.Content.ReadAsStringAsync();
        using var begun = await portal.SubmitAsync(noPasswordHtml, "/account?handler=BeginTotp", ("password", _server.Credentials("pacc-totp").Password));
        var begunHtml = await begun.Content.ReadAsStringAsync();
        var uri = WebUtility.HtmlDecode(OtpauthPattern().Match(begunHtml).Groups["uri"].Value);
        var secret = SecretOf(uri);
        using var wrong = await portal.SubmitAsync(begunHtml, "/account?handler=ConfirmTotp", ("code", WrongCode(secret)));
        var wrongHtml = await wrong.Content.ReadAsStringAsync();
        using var right = await portal.SubmitAsync(wrongHtml, "/account?handler=ConfirmTotp", ("code", CodeFor(secret)));
        var rightHtml = await right.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, noPassword.StatusCode);
        Assert.Matches("id=\"totpPassword-error\" class=\"field-error\"[^>]*>[^<]+</p>", noPasswordHtml);
        Assert.DoesNotMatch(OtpauthPattern(), noPasswordHtml);
        Assert.Equal(HttpStatusCode.OK, begun.StatusCode);
        Assert.StartsWith("otpauth://totp/OpenSPE:pacc-totp?secret=", uri, StringComparison.Ordinal);
        Assert.Contains("<img src=\"data:image/png;base64,", begunHtml, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, begun.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Matches("id=\"code-error\" class=\"field-error\">[^<]+</p>", wrongHtml);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(10, CodePattern().Count(rightHtml));
        // The new factor ended every session: the page says so, the portal session and the CLI's refresh token are gone.
        Assert.Contains("/portal/signin", rightHtml, StringComparison.Ordinal);
        using var after = await portal.GetAsync("/account");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RefreshAsync(cliRefresh)).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Password_change_shows_the_policys_errors_at_their_fields_and_changes_nothing()
    {
        await _server.EnsureAccountAsync("pacc-weak", "researcher");
        var password = _server.Credentials("pacc-weak").Password;
        using var portal = new PortalBrowser(_server);
        using var home = await portal.SignInAsync("pacc-weak", "/account");
        var html = await home.Content.ReadAsStringAsync();

        using var weak = await portal.SubmitAsync(html, "/account?handler=Password", ("currentPassword", password), ("newPassword", "password1234"));
        var weakHtml = await weak.Content.ReadAsStringAsync();
        using var mismatch = await portal.SubmitAsync(weakHtml, "/account?handler=Password", ("currentPassword", "not-the-password-at-all"), ("newPassword", "Another-Long-Passphrase-77"));
        var mismatchHtml = await mismatch.Content.ReadAsStringAsync();
        using var still = await portal.GetAsync("/account");

        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Matches("id=\"newPassword-error\" class=\"field-error\">[^<]+</p>", weakHtml);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Matches("id=\"currentPassword-error\" class=\"field-error\">[^<]+</p>", mismatchHtml);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-24")]
    public async Task Password_change_from_the_page_ends_the_portal_session_too()
    {
        await _server.EnsureAccountAsync("pacc-change", "researcher");
        var password = _server.Credentials("pacc-change").Password;
        using var portal = new PortalBrowser(_server);
        using var home = await portal.SignInAsync("pacc-change", "/account");
        var html = await home.Content.ReadAsStringAsync();

        using var changed = await portal.SubmitAsync(html, "/account?handler=Password", ("currentPassword", password), ("newPassword", "Fresh-Portal-Passphrase-2026"));
        var changedHtml = await changed.Content.ReadAsStringAsync();
        using var next = await portal.GetAsync("/account");

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Contains("sign in again", changedHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, next.StatusCode);
    }

    private static string SecretOf(string otpauth) => Regex.Match(otpauth, "secret=(?<s>[A-Z2-7]+)").Groups["s"].Value;

    private string CodeFor(string secret) =>
        Totp.Compute(OpenSpe.Server.Hosting.Base32.Decode(secret), Totp.StepAt(_server.Services.GetRequiredService<TimeProvider>().GetUtcNow()));

    private string WrongCode(string secret)
    {
        var right = int.Parse(CodeFor(secret), System.Globalization.CultureInfo.InvariantCulture);
        return ((right + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    private Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        _server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "spe-cli",
            ["refresh_token"] = refreshToken,
        }));

    [GeneratedRegex("<input type=\"hidden\" name=\"id\" value=\"(?<id>[^\"]+)\">")]
    private static partial Regex SessionIdPattern();

    [GeneratedRegex("<code id=\"otpauth\">(?<uri>[^<]+)</code>")]
    private static partial Regex OtpauthPattern();

    [GeneratedRegex("<li><code>[A-Z2-9]{10}</code></li>")]
    private static partial Regex CodePattern();
}
