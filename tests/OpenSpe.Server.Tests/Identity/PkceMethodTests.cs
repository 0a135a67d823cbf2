using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// PKCE with S256 only (issue #11 item 8): with <c>plain</c> the challenge is the verifier itself, so
/// whoever sees the authorization request (browser history, a proxy log) can redeem the code.
/// </summary>
public sealed class PkceMethodTests : IAsyncLifetime
{
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
    public async Task Authorization_request_with_the_plain_method_gets_no_code_and_S256_does()
    {
        using var browser = new TestBrowser(_server);
        var account = _identity.Account("hdab");
        using var signedIn = await browser.SignInAsync("hdab", account.Password, _identity.NextCode(account.TotpSecret));
        var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var s256 = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

        using var plain = await browser.GetAsync(AuthorizeUrl(verifier, "plain"));
        using var hashed = await browser.GetAsync(AuthorizeUrl(s256, "S256"));

        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        // Refused on the server's own error page or by an error redirect to the client; never with a code.
        if (plain.StatusCode == HttpStatusCode.Found)
        {
            var query = QueryHelpers.ParseQuery(browser.Location(plain).Query);
            Assert.Equal("invalid_request", query["error"].ToString());
            Assert.False(query.ContainsKey("code"));
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Found, hashed.StatusCode);
        Assert.NotEmpty(QueryHelpers.ParseQuery(browser.Location(hashed).Query)["code"].ToString());
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Discovery_document_offers_only_S256()
    {
        var discovery = await _server.Client.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

        Assert.Equal(["S256"], discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(m => m.GetString()));
    }

    private string AuthorizeUrl(string challenge, string method) => QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
    {
        ["client_id"] = "spe-portal",
        ["response_type"] = "code",
        ["redirect_uri"] = PortalCallback,
        ["scope"] = "openid offline_access",
        ["state"] = "xyz",
        ["code_challenge"] = challenge,
        ["code_challenge_method"] = method,
    });
}
