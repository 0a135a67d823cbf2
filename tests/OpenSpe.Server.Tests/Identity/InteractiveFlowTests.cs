using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// The OAuth flows that need a person at a browser, driven hop by hop: the device authorization
/// grant behind `spe login --device` and authorization code + PKCE for the portal, both completed
/// on the sign-in page with a password and a one-time code (TIR-7, EHDSR-5, SPER-8).
/// </summary>
public sealed class InteractiveFlowTests : IAsyncLifetime
{
    private const string DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _identity = new IdentityClient(_server);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private string PortalCallback => new Uri(_server.BaseAddress, "portal/callback").AbsoluteUri;

    [Fact]
    [Trait("Requirement", "TIR-7")]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "SPER-8")]
    public async Task Device_sign_in_is_approved_in_the_browser_after_password_and_totp()
    {
        var device = await JsonAsync(await _server.Client.PostAsync("/connect/device", Form(("client_id", "spe-cli"), ("scope", "openid offline_access"))));
        var userCode = device.GetProperty("user_code").GetString()!;
        var deviceCode = device.GetProperty("device_code").GetString()!;
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");

        var beforeApproval = await DeviceTokenAsync(deviceCode);
        using var verifyAnonymous = await browser.GetAsync("/connect/verify?user_code=" + Uri.EscapeDataString(userCode));
        using var loginPage = await browser.FollowAsync(verifyAnonymous);
        using var signedIn = await browser.SubmitLoginAsync(loginPage, "researcher", account.Password, _identity.NextCode(account.TotpSecret));
        using var verifyForm = await browser.FollowAsync(signedIn);
        var approvalFields = TestBrowser.HiddenFields(await TestBrowser.PageAsync(verifyForm));
        using var approved = await browser.PostFormAsync("/connect/verify", approvalFields);
        var tokens = await DeviceTokenAsync(deviceCode);

        Assert.Equal("authorization_pending", await IdentityClient.OAuthErrorAsync(beforeApproval));
        Assert.Equal("/account/login", browser.Location(verifyAnonymous).AbsolutePath);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.True(browser.HasSession);
        Assert.Equal(userCode, approvalFields["user_code"]);
        Assert.Equal(HttpStatusCode.Found, approved.StatusCode);
        Assert.Equal("/account/approved", browser.Location(approved).AbsolutePath);
        var (access, refresh) = await IdentityClient.TokensAsync(tokens);
        Assert.NotEmpty(refresh);
        await AssertSignedInAsync(access, "researcher");
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Device_code_is_refused_when_the_approval_form_lacks_the_anti_forgery_token()
    {
        var device = await JsonAsync(await _server.Client.PostAsync("/connect/device", Form(("client_id", "spe-cli"), ("scope", "openid offline_access"))));
        var userCode = device.GetProperty("user_code").GetString()!;
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");
        using var signedIn = await browser.SignInAsync("researcher", account.Password, _identity.NextCode(account.TotpSecret));

        using var forged = await browser.PostFormAsync("/connect/verify", [new("user_code", userCode)]);
        var tokens = await DeviceTokenAsync(device.GetProperty("device_code").GetString()!);

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("authorization_pending", await IdentityClient.OAuthErrorAsync(tokens));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Wrong_password_on_the_sign_in_page_gets_401_and_no_session()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");

        using var response = await browser.SignInAsync("researcher", account.Password + "x", _identity.NextCode(account.TotpSecret));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("The credentials are invalid.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(browser.HasSession);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Sign_in_form_without_the_anti_forgery_token_is_refused()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");
        using var page = await browser.GetAsync("/account/login");
        var fields = TestBrowser.HiddenFields(await TestBrowser.PageAsync(page));
        fields.Remove("__RequestVerificationToken");
        fields["username"] = "researcher";
        fields["password"] = account.Password;
        fields["otp"] = _identity.NextCode(account.TotpSecret);

        using var response = await browser.PostFormAsync("/account/login", fields);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(browser.HasSession);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Sign_in_page_does_not_redirect_to_another_site()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");

        using var response = await browser.SignInAsync("researcher", account.Password, _identity.NextCode(account.TotpSecret), returnUrl: "https://evil.example/");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        Assert.True(browser.HasSession);
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Api_does_not_accept_the_sign_in_session_cookie()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");
        using var signedIn = await browser.SignInAsync("researcher", account.Password, _identity.NextCode(account.TotpSecret));

        using var me = await browser.GetAsync("/api/v1/account");

        Assert.True(browser.HasSession);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Theory]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("https:/evil.example/")]
    [InlineData("/\t/evil.example/")]
    [InlineData("/\r\nSet-Cookie: a=b")]
    [Trait("Requirement", "TIR-9")]
    public async Task Sign_in_page_does_not_redirect_to_a_protocol_relative_or_malformed_url(string returnUrl)
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("researcher");

        using var response = await browser.SignInAsync("researcher", account.Password, _identity.NextCode(account.TotpSecret), returnUrl);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "SPER-8")]
    public async Task Portal_gets_a_code_after_sign_in_and_redeems_it_with_the_pkce_verifier()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("hdab");
        var (verifier, challenge) = Pkce();

        using var authorizeAnonymous = await browser.GetAsync(AuthorizeUrl(challenge, "xyz"));
        using var loginPage = await browser.FollowAsync(authorizeAnonymous);
        using var signedIn = await browser.SubmitLoginAsync(loginPage, "hdab", account.Password, _identity.NextCode(account.TotpSecret));
        using var authorized = await browser.FollowAsync(signedIn);
        var callback = browser.Location(authorized);
        var query = QueryHelpers.ParseQuery(callback.Query);
        var tokens = await RedeemAsync(query["code"].ToString(), verifier);

        Assert.Equal("/account/login", browser.Location(authorizeAnonymous).AbsolutePath);
        Assert.Equal("/connect/authorize", browser.Location(signedIn).AbsolutePath);
        Assert.Equal(HttpStatusCode.Found, authorized.StatusCode);
        Assert.Equal(PortalCallback, callback.GetLeftPart(UriPartial.Path));
        Assert.Equal("xyz", query["state"].ToString());
        var (access, refresh) = await IdentityClient.TokensAsync(tokens);
        Assert.NotEmpty(refresh);
        await AssertSignedInAsync(access, "hdab");
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Code_is_not_redeemed_without_the_matching_pkce_verifier()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("hdab");
        using var signedIn = await browser.SignInAsync("hdab", account.Password, _identity.NextCode(account.TotpSecret));
        var (verifier, challenge) = Pkce();
        var (_, otherChallenge) = Pkce();
        var withoutVerifier = await CodeAsync(browser, challenge);
        var withWrongVerifier = await CodeAsync(browser, otherChallenge);

        var missing = await RedeemAsync(withoutVerifier, verifier: null);
        var wrong = await RedeemAsync(withWrongVerifier, verifier);

        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(wrong));
        Assert.False((await JsonAsync(missing, HttpStatusCode.BadRequest)).TryGetProperty("access_token", out _));
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Authorization_request_without_pkce_is_refused()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("hdab");
        using var signedIn = await browser.SignInAsync("hdab", account.Password, _identity.NextCode(account.TotpSecret));

        using var response = await browser.GetAsync(AuthorizeUrl(challenge: null, "xyz"));

        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        // Refused either on the server's own error page or by an error redirect to the client; never with a code.
        if (response.StatusCode == HttpStatusCode.Found)
        {
            var query = QueryHelpers.ParseQuery(browser.Location(response).Query);
            Assert.Equal("invalid_request", query["error"].ToString());
            Assert.False(query.ContainsKey("code"));
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    private string AuthorizeUrl(string? challenge, string state)
    {
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = "spe-portal",
            ["response_type"] = "code",
            ["redirect_uri"] = PortalCallback,
            ["scope"] = "openid offline_access",
            ["state"] = state,
        };
        if (challenge is not null)
        {
            parameters["code_challenge"] = challenge;
            parameters["code_challenge_method"] = "S256";
        }

        return QueryHelpers.AddQueryString("/connect/authorize", parameters);
    }

    /// <summary>A code for the signed-in browser session.</summary>
    private async Task<string> CodeAsync(TestBrowser browser, string challenge)
    {
        using var authorized = await browser.GetAsync(AuthorizeUrl(challenge, "s"));
        Assert.Equal(HttpStatusCode.Found, authorized.StatusCode);
        return QueryHelpers.ParseQuery(browser.Location(authorized).Query)["code"].ToString();
    }

    private Task<HttpResponseMessage> RedeemAsync(string code, string? verifier)
    {
        var fields = new List<(string, string)>
        {
            ("grant_type", "authorization_code"),
            ("client_id", "spe-portal"),
            ("code", code),
            ("redirect_uri", PortalCallback),
        };
        if (verifier is not null)
        {
            fields.Add(("code_verifier", verifier));
        }

        return _server.Client.PostAsync("/connect/token", Form([.. fields]));
    }

    private Task<HttpResponseMessage> DeviceTokenAsync(string deviceCode) =>
        _server.Client.PostAsync("/connect/token", Form(("grant_type", DeviceCodeGrant), ("client_id", "spe-cli"), ("device_code", deviceCode)));

    private async Task AssertSignedInAsync(string accessToken, string username)
    {
        using var client = _server.ClientWithToken(accessToken);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/account");
        var info = await client.GetAsync("/api/v1/server/info");

        Assert.Equal(username, me.GetProperty("username").GetString());
        Assert.Contains(username, me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains("otp", me.GetProperty("authenticationMethods").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
    }

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (verifier, WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, body);
        return JsonDocument.Parse(body).RootElement;
    }
}
