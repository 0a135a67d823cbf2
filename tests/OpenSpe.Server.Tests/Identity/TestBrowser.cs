using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// A browser as far as the sign-in pages can tell: keeps cookies, does not follow redirects by
/// itself (so each hop can be checked), and trusts the server's certificate by its pinned fingerprint.
/// </summary>
public sealed partial class TestBrowser : IDisposable
{
    /// <summary>Name of the interactive session cookie.</summary>
    public const string SessionCookie = "__Host-spe-session";

    private readonly SpeTestServer _server;

    public TestBrowser(SpeTestServer server)
    {
        _server = server;
        var handler = new SocketsHttpHandler
        {
            CookieContainer = Cookies,
            UseCookies = true,
            AllowAutoRedirect = false,
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == server.Info.CertificateFingerprint,
            },
        };
        Http = new HttpClient(handler)
        {
            BaseAddress = server.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public CookieContainer Cookies { get; } = new();

    public HttpClient Http { get; }

    /// <summary>True when the browser holds a sign-in session cookie.</summary>
    public bool HasSession => Cookies.GetCookies(_server.BaseAddress).Any(c => c.Name == SessionCookie && !c.Expired);

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => Http.GetAsync(pathAndQuery);

    /// <summary>Follows a redirect as a browser would: GET of the Location, resolved against the server.</summary>
    public Task<HttpResponseMessage> FollowAsync(HttpResponseMessage redirect)
    {
        Assert.True(redirect.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect, got {(int)redirect.StatusCode}");
        return Http.GetAsync(Location(redirect));
    }

    /// <summary>Posts a form.</summary>
    public Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields) =>
        Http.PostAsync(path, new FormUrlEncodedContent(fields));

    /// <summary>Submits the sign-in form shown by <paramref name="loginPage"/> with its hidden fields (anti-forgery, returnUrl) and the credentials.</summary>
    public async Task<HttpResponseMessage> SubmitLoginAsync(HttpResponseMessage loginPage, string username, string password, string otp)
    {
        var html = await PageAsync(loginPage);
        var fields = HiddenFields(html);
        fields["username"] = username;
        fields["password"] = password;
        fields["otp"] = otp;
        return await PostFormAsync("/account/login", fields);
    }

    /// <summary>Opens the sign-in page with <paramref name="returnUrl"/> and submits it.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string username, string password, string otp, string returnUrl = "/")
    {
        using var page = await GetAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        return await SubmitLoginAsync(page, username, password, otp);
    }

    /// <summary>The body of a 200 HTML page.</summary>
    public static async Task<string> PageAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected a page, got {(int)response.StatusCode}: {html}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        return html;
    }

    /// <summary>The hidden fields and pre-filled inputs of the page's form, decoded.</summary>
    public static Dictionary<string, string> HiddenFields(string html)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match input in InputPattern().Matches(html))
        {
            fields[WebUtility.HtmlDecode(input.Groups["name"].Value)] = WebUtility.HtmlDecode(input.Groups["value"].Value);
        }

        return fields;
    }

    /// <summary>The redirect target resolved against the server.</summary>
    public Uri Location(HttpResponseMessage redirect)
    {
        var location = redirect.Headers.Location;
        Assert.NotNull(location);
        return location.IsAbsoluteUri ? location : new Uri(_server.BaseAddress, location);
    }

    public void Dispose() => Http.Dispose();

    // The pages are server-rendered with a fixed attribute order: <input [type="hidden"] name="..." [autocomplete=".."] value="...">.
    [GeneratedRegex("<input (?:type=\"hidden\" )?name=\"(?<name>[^\"]+)\"(?: autocomplete=\"[^\"]*\")? value=\"(?<value>[^\"]*)\"")]
    private static partial Regex InputPattern();
}
