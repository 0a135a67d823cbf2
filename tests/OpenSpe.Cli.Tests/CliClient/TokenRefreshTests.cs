using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>
/// Refresh-on-expiry and on-401 with rotated refresh tokens, at unit level against the fake token
/// endpoint (<see cref="FakeSpeServer"/>), with a fake clock.
/// </summary>
public sealed class TokenRefreshTests
{
    [Fact]
    public async Task Fake_endpoint_a_token_valid_for_more_than_60_s_is_used_as_is()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();
        harness.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(61));
        using var api = harness.Api(credentials);

        var account = await api.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken);

        Assert.Equal("alice", account.Username);
        Assert.Equal(0, harness.Server.RefreshGrants);
        Assert.Equal(credentials, harness.Store.Load());
    }

    [Fact]
    public async Task Fake_endpoint_within_60_s_of_expiry_refreshes_first_and_stores_the_rotated_refresh_token()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();
        harness.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(59));
        using var api = harness.Api(credentials);

        await api.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken);

        var stored = harness.Store.Load()!;
        Assert.Equal(1, harness.Server.RefreshGrants);
        Assert.NotEqual(credentials.AccessToken, stored.AccessToken);
        Assert.NotEqual(credentials.RefreshToken, stored.RefreshToken);
        Assert.True(harness.Server.IsRefreshTokenValid(stored.RefreshToken!));
        Assert.False(harness.Server.IsRefreshTokenValid(credentials.RefreshToken!));
        Assert.Equal(harness.Time.GetUtcNow() + TimeSpan.FromMinutes(5), stored.AccessTokenExpiresAt);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(harness.Store.Path));
    }

    [Fact]
    public async Task Fake_endpoint_an_expired_token_is_refreshed_before_the_call()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();
        harness.Time.Advance(TimeSpan.FromHours(1));
        using var api = harness.Api(credentials);

        await api.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken);

        Assert.Equal(["POST /connect/token", "GET /api/v1/account"], harness.Server.Requests);
    }

    [Fact]
    public async Task Fake_endpoint_a_401_on_a_token_believed_valid_refreshes_once_and_retries()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();
        harness.Server.Forget(credentials.AccessToken);
        using var api = harness.Api(credentials);

        var account = await api.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken);

        Assert.Equal("alice", account.Username);
        Assert.Equal(["GET /api/v1/account", "POST /connect/token", "GET /api/v1/account"], harness.Server.Requests);
    }

    [Fact]
    public async Task Fake_endpoint_a_revoked_refresh_token_asks_to_sign_in_again_without_looping()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();
        harness.Server.Forget(credentials.AccessToken);
        harness.Server.Revoke(credentials.RefreshToken!);
        using var api = harness.Api(credentials);

        var ex = await Assert.ThrowsAsync<SpeClientException>(() => api.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken));

        Assert.Contains("run 'spe login' again", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["GET /api/v1/account", "POST /connect/token"], harness.Server.Requests);
    }

    [Fact]
    public async Task Fake_endpoint_a_401_after_a_fresh_refresh_is_reported_not_retried()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn(lifetime: TimeSpan.FromSeconds(30));
        harness.Server.AccessLifetime = TimeSpan.Zero;
        using var api = harness.Api(credentials);

        var ex = await Assert.ThrowsAsync<ApiProblemException>(() => api.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, ex.Status);
        Assert.Equal(1, harness.Server.RefreshGrants);
    }

    [Fact]
    public async Task Fake_endpoint_a_second_process_with_stale_tokens_adopts_the_stored_refresh_instead_of_replaying_the_dead_token()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        using var first = harness.Api(credentials);
        using var second = harness.Api(credentials);

        await first.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken);
        await second.GetAsync<WhoAmIView>("api/v1/account", TestContext.Current.CancellationToken);

        Assert.Equal(1, harness.Server.RefreshGrants);
        Assert.Equal(first.Credentials, second.Credentials);
    }

    [Fact]
    public async Task Fake_endpoint_device_grant_polls_through_pending_and_slow_down()
    {
        using var harness = new ClientHarness();
        using var connection = harness.Environment.Connect(ClientHarness.Address, null);
        var oauth = new OAuthClient(connection, harness.Time);
        var device = await oauth.StartDeviceAsync(TestContext.Current.CancellationToken);

        var polling = oauth.PollDeviceAsync(device, TestContext.Current.CancellationToken);
        var waited = await harness.Time.AdvanceUntilDoneAsync(polling, maxTimers: 10, TestContext.Current.CancellationToken);

        var token = await polling;
        Assert.StartsWith("at-", token.AccessToken, StringComparison.Ordinal);
        Assert.Equal("WDJB-MJHT", device.UserCode);

        // Polls at 5 s (pending) and 10 s (slow_down), then the interval is 5 s longer: the token at 20 s.
        Assert.Equal(TimeSpan.FromSeconds(20), waited);
        Assert.Equal(4, harness.Server.Forms.Count); // the device request, then exactly three polls
        Assert.All(harness.Server.Forms.Skip(1), f => Assert.Equal(OAuthClient.DeviceCodeGrant, f["grant_type"]));
    }
}
