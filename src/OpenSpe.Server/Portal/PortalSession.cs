using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal;

/// <summary>
/// The portal's cookie session, bound to the tokens the code + PKCE flow gave it: the cookie (HttpOnly, Secure,
/// SameSite=Strict, encrypted by Data Protection) carries the person's access and refresh tokens and the access token's
/// claims. Each request checks, as the API does for a token, that the session behind it is alive (account enabled, same
/// security stamp), so a revoked person or an ended session loses the portal at the next request; an access token about
/// to expire is refreshed (with rotation) at the token endpoint.
/// </summary>
internal static class PortalSession
{
    /// <summary>The portal's authentication scheme (the cookie).</summary>
    public const string Scheme = "spe-portal";

    /// <summary>The portal's authorization policy: a person signed in to the portal with a second factor.</summary>
    public const string Policy = "portal";

    /// <summary>The cookie's name (<c>__Host-</c>: this host only, path /, Secure).</summary>
    public const string CookieName = "__Host-spe-portal";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    /// <summary>Configures the cookie.</summary>
    public static void Configure(CookieAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Cookie.Name = CookieName;
        options.Cookie.HttpOnly = true;
        options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
        options.Cookie.SameSite = SameSiteMode.Strict;
        // Note: never longer than the token session's absolute lifetime (Tokens:RefreshTokenLifetime): a refresh past it fails and ends the cookie.
        options.ExpireTimeSpan = TimeSpan.FromHours(12);
        options.SlidingExpiration = false;
        options.LoginPath = "/portal/signin";
        options.AccessDeniedPath = "/portal/signin";
        options.Events.OnValidatePrincipal = ValidateAsync;
    }

    /// <summary>The principal of an access token from this server's token endpoint (read, not re-validated: it came over the pinned backchannel).</summary>
    public static ClaimsPrincipal PrincipalOf(string accessToken)
    {
        var token = new JsonWebTokenHandler().ReadJsonWebToken(accessToken);
        string[] kept = ["sub", "preferred_username", "role", "amr", SpeClaims.Stamp, SpeClaims.SessionStart, OpenIddict.Abstractions.OpenIddictConstants.Claims.Private.AuthorizationId];
        var identity = new ClaimsIdentity(token.Claims.Where(c => kept.Contains(c.Type)).Select(c => new Claim(c.Type, c.Value)), Scheme, "preferred_username", "role");
        return new ClaimsPrincipal(identity);
    }

    /// <summary>Cookie properties holding the tokens of a token endpoint answer.</summary>
    public static AuthenticationProperties PropertiesFor(JsonElement tokens, TimeProvider time, string? returnUrl = null)
    {
        var properties = new AuthenticationProperties { IsPersistent = false, RedirectUri = returnUrl };
        Store(properties, tokens, time);
        return properties;
    }

    private static void Store(AuthenticationProperties properties, JsonElement tokens, TimeProvider time)
    {
        var expiresIn = tokens.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var seconds) ? seconds : 60;
        properties.StoreTokens(
        [
            new AuthenticationToken { Name = "access_token", Value = tokens.GetProperty("access_token").GetString()! },
            new AuthenticationToken { Name = "refresh_token", Value = tokens.TryGetProperty("refresh_token", out var r) ? r.GetString() ?? "" : "" },
            new AuthenticationToken { Name = "expires_at", Value = time.GetUtcNow().AddSeconds(expiresIn).ToString("o", CultureInfo.InvariantCulture) },
        ]);
    }

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var log = services.GetRequiredService<ILogger<PortalLog>>();
        // Note: the same liveness check the API makes for every token (SessionValidation): disabled account, role change,
        // password or factor change, logout elsewhere all end the portal session at the next request.
        if (context.Principal is null || !IdentitySetup.HasSecondFactor(context.Principal)
            || !await SessionValidation.IsPersonSessionAliveAsync(context.Principal, services, context.HttpContext.RequestAborted))
        {
            PortalLog.SessionEnded(log, context.Principal?.FindFirst("sub")?.Value ?? "-");
            await RejectAsync(context);
            return;
        }

        var time = services.GetRequiredService<TimeProvider>();
        var expiresAt = DateTimeOffset.TryParse(context.Properties.GetTokenValue("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : DateTimeOffset.MinValue;
        if (expiresAt - RefreshMargin > time.GetUtcNow())
        {
            return;
        }

        var refresh = context.Properties.GetTokenValue("refresh_token");
        var backchannel = services.GetRequiredService<PortalBackchannel>();
        var (status, body) = string.IsNullOrEmpty(refresh)
            ? (HttpStatusCode.BadRequest, default)
            : await backchannel.PostFormAsync(context.HttpContext, "/connect/token",
            [
                new("grant_type", "refresh_token"), new("client_id", IdentitySeeder.PortalClientId), new("refresh_token", refresh),
            ]);
        if (status != HttpStatusCode.OK)
        {
            PortalLog.RefreshRefused(log, context.Principal.FindFirst("sub")?.Value ?? "-", (int)status);
            await RejectAsync(context);
            return;
        }

        Store(context.Properties, body, time);
        context.ReplacePrincipal(PrincipalOf(body.GetProperty("access_token").GetString()!));
        context.ShouldRenew = true;
    }

    private static async Task RejectAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(Scheme);
    }
}
