using System.Net;
using System.Text.Json;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>Signs in for real: password and a TOTP code computed from the dev account's secret, through the OAuth token endpoint.</summary>
public sealed class IdentityClient(SpeTestServer server)
{
    private readonly Dictionary<string, long> _lastStep = new(StringComparer.Ordinal);

    public DevAccount Account(string username) => server.Info.DevAccounts.Single(a => a.Username == username);

    /// <summary>A fresh (never used) code for the account: codes are single use, so each sign-in takes the next step in the ±1 window.</summary>
    public string NextCode(string secret)
    {
        // The current step or later stays valid across the next step boundary (the server accepts ±1).
        var now = Totp.StepAt(DateTimeOffset.UtcNow);
        var step = Math.Max(now, _lastStep.GetValueOrDefault(secret) + 1);
        Assert.True(step <= now + 1, "test used more than two codes in one 30-second window");
        _lastStep[secret] = step;
        return Totp.Compute(Base32.Decode(secret), step);
    }

    public Task<HttpResponseMessage> PasswordGrantAsync(string username, string password, string? otp, string? recoveryCode = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "spe-cli",
            ["username"] = username,
            ["password"] = password,
            ["scope"] = "openid offline_access",
        };
        if (otp is not null)
        {
            form["otp"] = otp;
        }

        if (recoveryCode is not null)
        {
            form["recovery_code"] = recoveryCode;
        }

        return server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    /// <summary>Signs a dev account in and returns (access, refresh).</summary>
    public async Task<(string Access, string Refresh)> SignInAsync(string username)
    {
        var account = Account(username);
        var response = await PasswordGrantAsync(username, account.Password, NextCode(account.TotpSecret));
        return await TokensAsync(response);
    }

    public async Task<HttpClient> ClientForAsync(string username) => server.ClientWithToken((await SignInAsync(username)).Access);

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "spe-cli",
            ["refresh_token"] = refreshToken,
        }));

    public static async Task<(string Access, string Refresh)> TokensAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var json = JsonDocument.Parse(body).RootElement;
        return (json.GetProperty("access_token").GetString()!, json.TryGetProperty("refresh_token", out var r) ? r.GetString()! : "");
    }

    public static async Task<string> OAuthErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
    }

    /// <summary>A client-credentials grant for an application: its access token.</summary>
    public static async Task<string> ClientCredentialsAsync(SpeTestServer server, string clientId, string secret)
    {
        var response = await server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));
        return (await TokensAsync(response)).Access;
    }
}
