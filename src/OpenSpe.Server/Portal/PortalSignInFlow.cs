using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace OpenSpe.Server.Portal;

/// <summary>
/// One authorization code + PKCE flow of the portal: a random state and verifier (256 bits each), kept between the redirect to
/// <c>/connect/authorize</c> and the callback in a protected, time-limited, HttpOnly cookie, never in a URL.
/// </summary>
internal sealed class PortalSignInFlow(IDataProtectionProvider protection)
{
    /// <summary>Name of the flow cookie.</summary>
    public const string CookieName = "__Host-spe-portal-flow";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("OpenSpe.Portal.SignInFlow").ToTimeLimitedDataProtector();

    /// <summary>The portal's registered redirect URI under <paramref name="issuer"/>.</summary>
    public static string RedirectUri(string issuer) => new Uri(new Uri(issuer), "portal/callback").AbsoluteUri;

    /// <summary>Starts a flow; returns the authorization URL to send the browser to.</summary>
    public string Begin(HttpContext context, string issuer, string returnUrl)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pending = new Pending(Random(), Random(), returnUrl);
        context.Response.Cookies.Append(CookieName, _protector.Protect(JsonSerializer.Serialize(pending), Lifetime), new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            // Note: Lax, not Strict: the callback arrives by a redirect chain through the sign-in page; the state in it is what binds the flow.
            SameSite = SameSiteMode.Lax,
            Path = "/",
            MaxAge = Lifetime,
        });
        var challenge = Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(pending.Verifier)));
        return QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = Identity.IdentitySeeder.PortalClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = RedirectUri(issuer),
            ["scope"] = "openid offline_access profile roles",
            ["state"] = pending.State,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        });
    }

    /// <summary>Ends the flow: the pending state, or null when the cookie is missing, forged or too old.</summary>
    public Pending? End(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var value = context.Request.Cookies[CookieName];
        context.Response.Cookies.Delete(CookieName, new CookieOptions { HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax, Path = "/" });
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Pending>(_protector.Unprotect(value));
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Compares the returned state in constant time.</summary>
    public static bool SameState(string expected, string? actual) =>
        actual is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(actual));

    private static string Random() => Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the callback needs.</summary>
    /// <param name="State">The state sent to authorize.</param>
    /// <param name="Verifier">The PKCE verifier.</param>
    /// <param name="ReturnUrl">Where to go after (a local path).</param>
    internal sealed record Pending(string State, string Verifier, string ReturnUrl);
}
