using System.Net;
using System.Net.Http.Json;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// A person's own sign-in sessions (<c>/api/v1/account/sessions</c>): they see theirs only, the current one marked, and end
/// one or all the others; an ended session can no longer be renewed and its access tokens stop; another person's session cannot be seen or ended.
/// </summary>
public sealed class AccountSessionTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly SpeTestServer _server = shared.Server;

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-24")]
    public async Task Person_lists_own_sessions_and_ending_one_stops_its_renewal()
    {
        await _server.EnsureAccountAsync("sess-list", "researcher");
        var (otherToken, otherRefresh) = await _server.SignInAsync("sess-list");
        var (token, _) = await _server.SignInAsync("sess-list");
        using var client = _server.ClientWithToken(token);
        using var otherClient = _server.ClientWithToken(otherToken);
        using var otherBefore = await otherClient.GetAsync("/api/v1/account");

        var before = await client.GetFromJsonAsync<List<AccountSessionView>>("/api/v1/account/sessions");
        var other = Assert.Single(before!, s => !s.Current);
        var ended = await client.DeleteAsync("/api/v1/account/sessions/" + Uri.EscapeDataString(other.Id));
        var after = await client.GetFromJsonAsync<List<AccountSessionView>>("/api/v1/account/sessions");
        using var otherAfter = await otherClient.GetAsync("/api/v1/account");

        Assert.Single(before!, s => s.Current);
        Assert.Equal(2, before!.Count);
        Assert.Equal("spe-cli", other.ClientId);
        Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RefreshAsync(otherRefresh)).StatusCode);
        Assert.True(Assert.Single(after!).Current);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/account")).StatusCode);
        // The ended session's access token, still within its lifetime, stops at once: its owner ended it because it was not theirs.
        Assert.Equal(HttpStatusCode.OK, otherBefore.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherAfter.StatusCode);
        Assert.Contains("session has ended", otherAfter.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task A_renewed_session_stays_one_session()
    {
        await _server.EnsureAccountAsync("sess-renew", "researcher");
        var (_, refresh) = await _server.SignInAsync("sess-renew");

        using var renewed = await RefreshAsync(refresh);
        var body = await renewed.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        using var client = _server.ClientWithToken(body.GetProperty("access_token").GetString()!);
        var sessions = await client.GetFromJsonAsync<List<AccountSessionView>>("/api/v1/account/sessions");

        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.True(Assert.Single(sessions!).Current);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-24")]
    public async Task End_others_ends_every_other_session_and_keeps_the_current_one()
    {
        await _server.EnsureAccountAsync("sess-others", "researcher");
        var (firstToken, first) = await _server.SignInAsync("sess-others");
        var (_, second) = await _server.SignInAsync("sess-others");
        var (token, currentRefresh) = await _server.SignInAsync("sess-others");
        using var client = _server.ClientWithToken(token);

        var answer = await client.PostAsync("/api/v1/account/sessions/end-others", null);
        var ended = await answer.Content.ReadFromJsonAsync<SessionsEndedView>();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(2, ended!.Ended);
        Assert.Equal(HttpStatusCode.BadRequest, (await RefreshAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RefreshAsync(second)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(currentRefresh)).StatusCode);
        using var firstClient = _server.ClientWithToken(firstToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await firstClient.GetAsync("/api/v1/account")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/account")).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task Another_persons_session_is_neither_listed_nor_ended()
    {
        await _server.EnsureAccountAsync("sess-victim", "researcher");
        await _server.EnsureAccountAsync("sess-attacker", "researcher");
        var (victimToken, victimRefresh) = await _server.SignInAsync("sess-victim");
        using var victim = _server.ClientWithToken(victimToken);
        var victimSession = Assert.Single((await victim.GetFromJsonAsync<List<AccountSessionView>>("/api/v1/account/sessions"))!);
        using var attacker = await _server.ClientForAccountAsync("sess-attacker");

        var listed = await attacker.GetFromJsonAsync<List<AccountSessionView>>("/api/v1/account/sessions");
        var ended = await attacker.DeleteAsync("/api/v1/account/sessions/" + Uri.EscapeDataString(victimSession.Id));
        var garbage = await attacker.DeleteAsync("/api/v1/account/sessions/" + new string('x', 300));

        Assert.DoesNotContain(listed!, s => s.Id == victimSession.Id);
        Assert.Equal(HttpStatusCode.NotFound, ended.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, garbage.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(victimRefresh)).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/api/v1/account/sessions")]
    [InlineData("DELETE", "/api/v1/account/sessions/any")]
    [InlineData("POST", "/api/v1/account/sessions/end-others")]
    [Trait("Requirement", "TIR-22")]
    public async Task Without_a_token_every_session_operation_is_401(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task An_application_token_has_no_sessions_to_list()
    {
        var token = await _server.ApplicationTokenAsync("sess-app");
        using var app = _server.ClientWithToken(token);

        using var response = await app.GetAsync("/api/v1/account/sessions");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        _server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "spe-cli",
            ["refresh_token"] = refreshToken,
        }));
}
