using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// A browser at the portal as far as HTTP can tell: signs in through the real authorization code + PKCE flow (portal sign-in,
/// authorize, the password + one-time code page, callback), hop by hop, then reads pages and submits their forms with the
/// anti-forgery token the page carries.
/// </summary>
public sealed partial class PortalBrowser : IDisposable
{
    /// <summary>Name of the portal session cookie.</summary>
    public const string PortalCookie = "__Host-spe-portal";

    private readonly SpeTestServer _server;

    public PortalBrowser(SpeTestServer server)
    {
        _server = server;
        Browser = new TestBrowser(server);
    }

    public TestBrowser Browser { get; }

    /// <summary>The Set-Cookie headers of the callback that started the portal session.</summary>
    public IReadOnlyList<string> SessionSetCookies { get; private set; } = [];

    /// <summary>True while the browser holds a portal session cookie.</summary>
    public bool HasPortalSession => Browser.Cookies.GetCookies(_server.BaseAddress).Any(c => c.Name == PortalCookie && !c.Expired);

    /// <summary>Signs in as <paramref name="username"/> through the portal's code + PKCE flow; returns the page it lands on.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string username, string returnUrl = "/")
    {
        var (password, secret) = _server.Credentials(username);
        using var start = await Browser.GetAsync("/portal/signin?returnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        using var authorize = await Browser.FollowAsync(start);
        using var loginPage = await Browser.FollowAsync(authorize);
        using var signedIn = await Browser.SubmitLoginAsync(loginPage, username, password, await FreshCodeAsync(username, secret));
        Assert.True(signedIn.StatusCode == HttpStatusCode.Found, $"sign-in page answered {(int)signedIn.StatusCode}: {await signedIn.Content.ReadAsStringAsync()}");
        using var authorized = await Browser.FollowAsync(signedIn);
        Assert.Equal("/portal/callback", Browser.Location(authorized).AbsolutePath);
        using var callback = await Browser.FollowAsync(authorized);
        Assert.True(callback.StatusCode == HttpStatusCode.Redirect, $"callback answered {(int)callback.StatusCode}: {await callback.Content.ReadAsStringAsync()}");
        SessionSetCookies = callback.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        return await Browser.FollowAsync(callback);
    }

    // Note: one-time codes are single use; tests sign the same person in many times within one 30-second step, so the replay
    // guard is reset first (as SpeTestServer.SignInAsync does). Nothing else is bypassed.
    private async Task<string> FreshCodeAsync(string username, string secret)
    {
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
            var user = await users.FindByNameAsync(username) ?? throw new InvalidOperationException($"no account {username}");
            user.LastTotpStep = 0;
            await users.UpdateAsync(user);
        }

        var now = _server.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        return Totp.Compute(OpenSpe.Server.Hosting.Base32.Decode(secret), Totp.StepAt(now));
    }

    public Task<HttpResponseMessage> GetAsync(string path) => Browser.GetAsync(path);

    /// <summary>Submits the form of <paramref name="html"/> whose action is <paramref name="action"/>, with its anti-forgery token and <paramref name="fields"/>.</summary>
    public Task<HttpResponseMessage> SubmitAsync(string html, string action, params (string Name, string Value)[] fields)
    {
        var values = new List<KeyValuePair<string, string>> { new("__RequestVerificationToken", AntiforgeryToken(html)) };
        values.AddRange(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        return Browser.PostFormAsync(action, values);
    }

    /// <summary>The anti-forgery token a page carries.</summary>
    public static string AntiforgeryToken(string html)
    {
        var match = TokenPattern().Match(html);
        Assert.True(match.Success, "the page carries no anti-forgery token");
        return WebUtility.HtmlDecode(match.Groups["value"].Value);
    }

    public void Dispose() => Browser.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"(?<value>[^\"]+)\"")]
    private static partial Regex TokenPattern();
}
