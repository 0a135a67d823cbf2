using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>Sign-in with a password and a one-time code: what succeeds, what is refused, and that every attempt is audited with its reason class (EHDSR-5, TIR-22, EHDSR-7).</summary>
public sealed class SignInTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _identity = new IdentityClient(_server);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "TIR-7")]
    public async Task Dev_account_signs_in_with_password_and_totp_and_the_token_carries_roles_and_amr()
    {
        var (access, refresh) = await _identity.SignInAsync("auditor");
        using var client = _server.ClientWithToken(access);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/account");
        var records = await client.GetAsync("/api/v1/audit/records?limit=1");

        Assert.Equal("auditor", me.GetProperty("username").GetString());
        Assert.Equal(["auditor"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["pwd", "otp"], me.GetProperty("authenticationMethods").EnumerateArray().Select(r => r.GetString()));
        Assert.True(me.GetProperty("mfaEnrolled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, records.StatusCode);
        Assert.NotEmpty(refresh);
        var lifetime = new System.IdentityModel.Tokens.Jwt.JwtSecurityTokenHandler().ReadJwtToken(access);
        Assert.InRange(lifetime.ValidTo - lifetime.IssuedAt, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(15));
    }

    [Theory]
    [InlineData("/connect/token", "grant_type=password&client_id=spe-cli&username=admin&password=x&recovery_code=%00%00")]
    [InlineData("/connect/token", "grant_type=password&client_id=spe-cli&username=ad%00min&password=x")]
    [InlineData("/account/login", "username=admin&password=x%00&otp=123456")]
    [Trait("Requirement", "TIR-10")]
    public async Task A_form_with_a_NUL_in_a_value_is_a_400_problem_not_a_server_error(string path, string form)
    {
        using var content = new StringContent(form, System.Text.Encoding.ASCII, "application/x-www-form-urlencoded");

        using var response = await _server.Client.PostAsync(path, content);

        var problem = await Api.ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(ErrorCodes.MalformedBody, problem.GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "EHDSR-7")]
    public async Task Wrong_password_is_refused_and_audited()
    {
        var account = _identity.Account("researcher");

        var response = await _identity.PasswordGrantAsync("researcher", account.Password + "x", _identity.NextCode(account.TotpSecret));

        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(response));
        await AssertSignInAuditedAsync("researcher", "password-invalid");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Wrong_totp_is_refused_and_audited()
    {
        var account = _identity.Account("researcher");
        var code = _identity.NextCode(account.TotpSecret);
        var wrong = ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        var response = await _identity.PasswordGrantAsync("researcher", account.Password, wrong);

        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(response));
        await AssertSignInAuditedAsync("researcher", "otp-invalid");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Replayed_totp_is_refused_and_audited()
    {
        var account = _identity.Account("researcher");
        var code = _identity.NextCode(account.TotpSecret);

        var first = await _identity.PasswordGrantAsync("researcher", account.Password, code);
        var replay = await _identity.PasswordGrantAsync("researcher", account.Password, code);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(replay));
        await AssertSignInAuditedAsync("researcher", "otp-replayed");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Missing_totp_is_refused_as_invalid_credentials_and_audited()
    {
        var account = _identity.Account("researcher");

        var response = await _identity.PasswordGrantAsync("researcher", account.Password, null);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The credentials are invalid.", body.GetProperty("error_description").GetString());
        await AssertSignInAuditedAsync("researcher", "otp-required");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Unknown_account_is_refused_like_a_wrong_password()
    {
        var response = await _identity.PasswordGrantAsync("nobody", "whatever-password", "123456");

        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(response));
        await AssertSignInAuditedAsync("nobody", "unknown-user");
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Refresh_rotates_and_the_old_refresh_token_stops_working()
    {
        var (_, refresh) = await _identity.SignInAsync("hdab");

        var rotated = await IdentityClient.TokensAsync(await _identity.RefreshAsync(refresh));
        var reuse = await _identity.RefreshAsync(refresh);
        using var client = _server.ClientWithToken(rotated.Access);

        Assert.NotEqual(refresh, rotated.Refresh);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(reuse));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/server/info")).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Revoked_refresh_token_no_longer_works()
    {
        var (_, refresh) = await _identity.SignInAsync("hdab");

        var revoke = await _server.Client.PostAsync("/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = refresh,
            ["token_type_hint"] = "refresh_token",
            ["client_id"] = "spe-cli",
        }));
        var after = await _identity.RefreshAsync(refresh);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(after));
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Discovery_and_keys_are_published()
    {
        var discovery = await _server.Client.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");
        var jwks = await _server.Client.GetFromJsonAsync<JsonElement>("/.well-known/jwks");

        Assert.Equal(_server.BaseAddress.AbsoluteUri, discovery.GetProperty("issuer").GetString());
        var grants = discovery.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()).ToList();
        Assert.Contains("client_credentials", grants);
        Assert.Contains("urn:ietf:params:oauth:grant-type:device_code", grants);
        Assert.Contains("authorization_code", grants);
        Assert.Contains("refresh_token", grants);
        Assert.True(discovery.TryGetProperty("revocation_endpoint", out _));
        Assert.True(discovery.TryGetProperty("introspection_endpoint", out _));
        Assert.Equal("EC", jwks.GetProperty("keys")[0].GetProperty("kty").GetString());
    }

    private async Task AssertSignInAuditedAsync(string username, string reason)
    {
        var rows = await RowsAsync();
        Assert.True(rows.Any(r => r.Action == "auth.signin" && r.Outcome == "denied" && r.ActorUsername == username
            && r.DetailsJson.Contains($"\"reason\":\"{reason}\"", StringComparison.Ordinal)),
            string.Join("\n", rows.Where(r => r.Action.StartsWith("auth.", StringComparison.Ordinal)).Select(r => $"{r.Action} {r.ActorUsername} {r.Outcome} {r.DetailsJson}")));
        Assert.Contains(rows, r => r.Action == "auth.signin" && r.Outcome == "denied" && r.ActorUsername == username
            && r.DetailsJson.Contains($"\"reason\":\"{reason}\"", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.DetailsJson.Contains(_identity.Account("researcher").Password, StringComparison.Ordinal));
    }

    private async Task<List<AuditRow>> RowsAsync()
    {
        await using var connection = await _server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }
}
