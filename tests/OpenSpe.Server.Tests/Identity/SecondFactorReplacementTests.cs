using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// Replacing an enrolled second factor: a signed-in session alone (a stolen token) cannot swap it, because the current password is
/// needed too; a replacement ends every session of the account, as a password change does.
/// </summary>
public sealed class SecondFactorReplacementTests : IAsyncLifetime
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
    public async Task A_session_without_the_password_cannot_replace_the_second_factor_and_the_old_one_keeps_working()
    {
        var account = _identity.Account("researcher2");
        var (access, _) = await _identity.SignInAsync("researcher2");
        using var stolen = _server.ClientWithToken(access);

        using var none = await stolen.PostAsync("/api/v1/account/totp", null);
        using var wrong = await stolen.PostAsJsonAsync("/api/v1/account/totp", new { password = "not-the-password-at-all" });
        using var confirm = await stolen.PostAsJsonAsync("/api/v1/account/totp/confirm", new { code = "123456" });

        foreach (var refused in new[] { none, wrong })
        {
            var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _), problem.GetRawText());
            Assert.DoesNotContain("secret", problem.GetRawText(), StringComparison.Ordinal);
        }

        // No enrolment was started, so there is nothing to confirm, and the enrolled factor still signs in.
        Assert.Equal(HttpStatusCode.BadRequest, confirm.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _identity.PasswordGrantAsync("researcher2", account.Password, _identity.NextCode(account.TotpSecret))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await stolen.GetAsync("/api/v1/server/info")).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task A_stolen_session_guessing_the_password_is_held_back_as_a_sign_in_is_and_then_even_the_right_one_is_not_looked_at()
    {
        var account = _identity.Account("researcher2");
        var (access, _) = await _identity.SignInAsync("researcher2");
        using var stolen = _server.ClientWithToken(access);

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++)
        {
            answers.Add(await stolen.PostAsJsonAsync("/api/v1/account/password", new { currentPassword = $"guess-number-{i}-of-many", newPassword = "Violet-Ledger-Orchard-Nine-77" }));
        }

        using var replace = await stolen.PostAsJsonAsync("/api/v1/account/totp", new { password = account.Password });

        await ProblemAssert.IsProblemAsync(answers[0], HttpStatusCode.BadRequest);
        var held = answers.FirstOrDefault(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(held is not null, string.Join(", ", answers.Select(a => (int)a.StatusCode)));
        Assert.Equal(ErrorCodes.RateLimited, (await ProblemAssert.IsProblemAsync(held, HttpStatusCode.TooManyRequests)).GetProperty("code").GetString());
        Assert.NotNull(held.Headers.RetryAfter);
        await ProblemAssert.IsProblemAsync(replace, HttpStatusCode.TooManyRequests);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "TIR-24")]
    public async Task Replacing_the_second_factor_with_the_password_ends_every_session_and_only_the_new_factor_signs_in()
    {
        var account = _identity.Account("researcher2");
        var (access, refresh) = await _identity.SignInAsync("researcher2");
        // A second session of the same sign-in (two codes of one account are all a 30-second window allows these tests).
        var (other, otherRefresh) = await IdentityClient.TokensAsync(await _identity.RefreshAsync(refresh));
        using var owner = _server.ClientWithToken(access);
        using var otherSession = _server.ClientWithToken(other);

        using var begun = await owner.PostAsJsonAsync("/api/v1/account/totp", new { password = account.Password });
        var secret = (await begun.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        using var confirmed = await owner.PostAsJsonAsync("/api/v1/account/totp/confirm", new { code = _identity.NextCode(secret) });
        var answer = await confirmed.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, begun.StatusCode);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.True(answer.GetProperty("sessionsEnded").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.GetAsync("/api/v1/server/info")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherSession.GetAsync("/api/v1/server/info")).StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(await _identity.RefreshAsync(otherRefresh)));
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(
            await _identity.PasswordGrantAsync("researcher2", account.Password, _identity.NextCode(account.TotpSecret))));
        Assert.Equal(HttpStatusCode.OK, (await _identity.PasswordGrantAsync("researcher2", account.Password, _identity.NextCode(secret))).StatusCode);
    }
}
