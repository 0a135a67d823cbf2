using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// Sign-in throttling instead of lockout (issue #11 item 6), through the real token endpoint and
/// sign-in page on a fake clock, with clients on distinct loopback source addresses: strangers can
/// slow an account down but not lock its owner out or end their session, and the answers never
/// tell an existing name from an unknown one, nor a right password from a wrong one.
/// </summary>
public sealed partial class SignInThrottleTests : IAsyncLifetime
{
    private const string Invalid = "The credentials are invalid.";

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly Dictionary<string, long> _lastStep = new(StringComparer.Ordinal);
    private readonly List<HttpClient> _clients = [];
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync(time: _clock);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _server.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Strangers_slow_an_account_down_but_its_owner_still_signs_in_from_elsewhere_within_the_account_cap_and_keeps_their_session()
    {
        var owner = Account("operator");
        var (_, refresh) = await TokensAsync(await PasswordAsync(From(10), "operator", owner.Password, Code(owner)));

        // Strangers on many addresses, each staying inside its own allowances, drive the account key to its cap.
        var waits = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            var answer = await DescriptionAsync(await PasswordAsync(From(100 + (i % 20)), "operator", "guess-" + i, "000000"));
            if (RetryAfter(answer) is { } wait)
            {
                waits.Add(wait);
                refresh = await RefreshStillWorksAsync(refresh);
                _clock.Advance(TimeSpan.FromSeconds(wait));
            }
        }

        // The last stranger's attempt is one that counted, so the account is inside a delay when its owner comes.
        while (RetryAfter(await DescriptionAsync(await PasswordAsync(From(99), "operator", "guess", "000000"))) is { } last)
        {
            _clock.Advance(TimeSpan.FromSeconds(last));
        }

        var ownerHeld = await DescriptionAsync(await PasswordAsync(From(20), "operator", owner.Password, Code(owner)));
        var held = RetryAfter(ownerHeld);
        refresh = await RefreshStillWorksAsync(refresh);
        _clock.Advance(TimeSpan.FromSeconds(held ?? 0));
        var ownerIn = await PasswordAsync(From(20), "operator", owner.Password, Code(owner));

        Assert.Contains(60, waits);
        Assert.All(waits, w => Assert.InRange(w, 1, 60));
        Assert.NotNull(held);
        Assert.InRange(held.Value, 1, 60);
        Assert.Equal(HttpStatusCode.OK, ownerIn.StatusCode);
        await RefreshStillWorksAsync(refresh);
        await AssertIdentityLockoutUntouchedAsync("operator");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Owner_on_an_address_they_signed_in_from_before_is_not_held_by_strangers_elsewhere()
    {
        var owner = Account("hdab");
        await TokensAsync(await PasswordAsync(From(10), "hdab", owner.Password, Code(owner)));
        string? held = null;
        for (var i = 0; i < 20 && held is null; i++)
        {
            var answer = await DescriptionAsync(await PasswordAsync(From(100 + i), "hdab", "guess-" + i, "000000"));
            held = RetryAfter(answer) is null ? null : answer;
        }

        // Held before the code is looked at, so any code does here.
        var fromElsewhere = await DescriptionAsync(await PasswordAsync(From(30), "hdab", owner.Password, "123456"));
        var fromKnownAddress = await PasswordAsync(From(10), "hdab", owner.Password, Code(owner));

        Assert.NotNull(held);
        Assert.NotNull(RetryAfter(fromElsewhere));
        Assert.Equal(HttpStatusCode.OK, fromKnownAddress.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Failures_from_one_source_get_doubling_delays_and_the_right_password_inside_a_delay_is_refused()
    {
        var account = Account("researcher");
        var source = From(30);
        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await DescriptionAsync(await PasswordAsync(source, "researcher", "wrong-" + i, "000000")));
        }

        var waits = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var wait = RetryAfter(await DescriptionAsync(await PasswordAsync(source, "researcher", "wrong", "000000")))!.Value;
            waits.Add(wait);
            _clock.Advance(TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(1));
            Assert.NotNull(RetryAfter(await DescriptionAsync(await PasswordAsync(source, "researcher", "wrong", "000000"))));
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(Invalid, await DescriptionAsync(await PasswordAsync(source, "researcher", "wrong-again-" + i, "000000")));
        }

        var rightInsideDelay = await PasswordAsync(source, "researcher", account.Password, Code(account));
        var retryAfterHeader = rightInsideDelay.Headers.RetryAfter?.Delta;
        var rightInsideDelayText = await DescriptionAsync(rightInsideDelay);
        _clock.Advance(TimeSpan.FromSeconds(RetryAfter(rightInsideDelayText)!.Value));
        var rightAfterDelay = await PasswordAsync(source, "researcher", account.Password, Code(account));

        Assert.All(answers, a => Assert.Equal(Invalid, a));
        Assert.Equal([1, 2, 4, 8], waits);
        Assert.Equal(16, RetryAfter(rightInsideDelayText));
        Assert.Equal(TimeSpan.FromSeconds(16), retryAfterHeader);
        Assert.Equal(HttpStatusCode.OK, rightAfterDelay.StatusCode);
        var rows = await RowsAsync();
        Assert.Contains(rows, r => r.Action == "auth.signin" && r.Outcome == "denied" && r.ActorUsername == "researcher" && r.SourceIp == "127.0.0.30"
            && r.DetailsJson.Contains("\"reason\":\"throttled\"", StringComparison.Ordinal)
            && r.DetailsJson.Contains("\"heldBy\":\"account-and-address\"", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.DetailsJson.Contains(account.Password, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Unknown_and_existing_names_get_byte_identical_answers_for_wrong_passwords_delays_and_throttling()
    {
        var existing = From(40);
        var unknown = From(41);
        var pairs = new List<(HttpResponseMessage Existing, HttpResponseMessage Unknown)>();

        // Four failures each: three inside the allowance, the fourth starts a delay; then one attempt inside it, then one after it.
        for (var i = 0; i < 4; i++)
        {
            pairs.Add((await PasswordAsync(existing, "researcher2", "wrong-" + i, "000000"), await PasswordAsync(unknown, "nobody-here", "wrong-" + i, "000000")));
        }

        pairs.Add((await PasswordAsync(existing, "researcher2", "wrong", "000000"), await PasswordAsync(unknown, "nobody-here", "wrong", "000000")));
        _clock.Advance(TimeSpan.FromSeconds(1));
        pairs.Add((await PasswordAsync(existing, "researcher2", "wrong", "000000"), await PasswordAsync(unknown, "nobody-here", "wrong", "000000")));
        pairs.Add((await PasswordAsync(existing, "researcher2", "wrong", "000000"), await PasswordAsync(unknown, "nobody-here", "wrong", "000000")));

        var rendered = new List<(string Existing, string Unknown)>();
        foreach (var (e, u) in pairs)
        {
            rendered.Add((await RenderAsync(e), await RenderAsync(u)));
        }

        Assert.All(rendered, r => Assert.Equal(r.Existing, r.Unknown));
        Assert.Contains(Invalid, rendered[0].Existing, StringComparison.Ordinal);
        Assert.Contains("try again in 1 s", rendered[4].Existing, StringComparison.Ordinal);
        Assert.Contains(Invalid, rendered[5].Existing, StringComparison.Ordinal);
        Assert.Contains("try again in 2 s", rendered[6].Existing, StringComparison.Ordinal);
        var rows = await RowsAsync();
        Assert.Contains(rows, r => r.Action == "auth.signin" && r.ActorUsername == "nobody-here" && r.DetailsJson.Contains("\"reason\":\"throttled\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Right_password_without_a_code_is_answered_as_a_wrong_password_and_counts_as_a_failure()
    {
        var account = Account("checker2");
        var withoutCode = From(50);
        var wrongPassword = From(51);
        var rendered = new List<(string WithoutCode, string Wrong)>();
        for (var i = 0; i < 5; i++)
        {
            var a = await PasswordAsync(withoutCode, "checker2", account.Password, null);
            var b = await PasswordAsync(wrongPassword, "checker2", "wrong-" + i, null);
            rendered.Add((await RenderAsync(a), await RenderAsync(b)));
        }

        Assert.All(rendered, r => Assert.Equal(r.Wrong, r.WithoutCode));
        Assert.Contains(Invalid, rendered[0].WithoutCode, StringComparison.Ordinal);
        Assert.Contains("try again in 1 s", rendered[4].WithoutCode, StringComparison.Ordinal);
        var rows = await RowsAsync();
        Assert.Equal(4, rows.Count(r => r.Action == "auth.signin" && r.SourceIp == "127.0.0.50" && r.DetailsJson.Contains("\"reason\":\"otp-required\"", StringComparison.Ordinal)));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Sign_in_page_answers_unknown_and_existing_names_alike_and_throttles_them_alike()
    {
        using var existing = new TestBrowser(_server);
        using var unknown = new TestBrowser(_server);
        var pages = new List<(string Existing, string Unknown)>();
        for (var i = 0; i < 5; i++)
        {
            using var e = await existing.SignInAsync("holder", "wrong-" + i, "000000");
            using var u = await unknown.SignInAsync("nobody-here", "wrong-" + i, "000000");
            Assert.Equal(e.StatusCode, u.StatusCode);
            pages.Add((WithoutAntiforgery(await e.Content.ReadAsStringAsync()), WithoutAntiforgery(await u.Content.ReadAsStringAsync())));
        }

        Assert.All(pages, p => Assert.Equal(p.Existing, p.Unknown));
        Assert.Contains(Invalid, pages[0].Existing, StringComparison.Ordinal);
        Assert.Contains("try again in 1 s", pages[4].Existing, StringComparison.Ordinal);
        Assert.False(existing.HasSession);
    }

    private async Task AssertIdentityLockoutUntouchedAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var user = (await users.FindByNameAsync(username))!;
        Assert.Null(user.LockoutEnd);
        Assert.Equal(0, user.AccessFailedCount);
    }

    private async Task<string> RefreshStillWorksAsync(string refresh)
    {
        var response = await _server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "spe-cli",
            ["refresh_token"] = refresh,
        }));
        return (await TokensAsync(response)).Refresh;
    }

    private DevAccount Account(string username) => _server.Info.DevAccounts.Single(a => a.Username == username);

    /// <summary>A fresh code on the server's (fake) clock: each code works once, so a second use in a step takes the next one.</summary>
    private string Code(DevAccount account)
    {
        var now = Totp.StepAt(_clock.GetUtcNow());
        var step = Math.Max(now, _lastStep.GetValueOrDefault(account.TotpSecret) + 1);
        Assert.True(step <= now + 1, "more than two codes in one step");
        _lastStep[account.TotpSecret] = step;
        return Totp.Compute(Base32.Decode(account.TotpSecret), step);
    }

    private HttpClient From(int lastOctet)
    {
        var client = PinnedHttp.Create(_server.BaseAddress, _server.Info.CertificateFingerprint, source: IPAddress.Parse("127.0.0." + lastOctet.ToString(CultureInfo.InvariantCulture)));
        _clients.Add(client);
        return client;
    }

    private static Task<HttpResponseMessage> PasswordAsync(HttpClient client, string username, string password, string? otp)
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

        return client.PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    private static async Task<(string Access, string Refresh)> TokensAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var json = JsonDocument.Parse(body).RootElement;
        return (json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    private static async Task<string> DescriptionAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        return json.GetProperty("error_description").GetString()!;
    }

    private static int? RetryAfter(string description) =>
        WaitPattern().Match(description) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>Status, every header but the date, and the body bytes (base64) of an answer.</summary>
    private static async Task<string> RenderAsync(HttpResponseMessage response)
    {
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(h => !h.Key.Equals("Date", StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => h.Key + ": " + string.Join(", ", h.Value));
        var body = await response.Content.ReadAsByteArrayAsync();
        return $"{(int)response.StatusCode}\n{string.Join("\n", headers)}\n\n{Convert.ToBase64String(body)}\n{System.Text.Encoding.UTF8.GetString(body)}";
    }

    private static string WithoutAntiforgery(string html) => AntiforgeryValue().Replace(html, "value=\"(token)\"");

    private async Task<List<AuditRow>> RowsAsync()
    {
        await using var connection = await _server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }

    [GeneratedRegex(@"try again in (\d+) s\.")]
    private static partial Regex WaitPattern();

    [GeneratedRegex("(?<=name=\"__RequestVerificationToken\" )value=\"[^\"]*\"")]
    private static partial Regex AntiforgeryValue();
}
