using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>Builds the identity that goes into tokens: subject, name, current roles, how the person signed in, and the API audience.</summary>
internal sealed class TokenPrincipals(UserManager<SpeUser> users, Microsoft.Extensions.Options.IOptions<TokenOptions> tokens, TimeProvider time)
{
    /// <summary>
    /// A person's principal; <paramref name="authenticationMethods"/> become <c>amr</c>. It carries the
    /// account's security stamp and when the session began (<paramref name="sessionStart"/>, now for a new
    /// sign-in); its refresh tokens never outlive the absolute session lifetime.
    /// </summary>
    public async Task<ClaimsPrincipal> ForPersonAsync(SpeUser user, IEnumerable<string> authenticationMethods, IEnumerable<string> scopes, DateTimeOffset? sessionStart = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = await BaseAsync(user);
        identity.SetClaims("amr", [.. authenticationMethods]);
        var start = sessionStart ?? time.GetUtcNow();
        identity.SetClaim(SpeClaims.SessionStart, start.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var principal = Finish(identity, scopes);
        var left = start.Add(tokens.Value.RefreshTokenLifetime) - time.GetUtcNow();
        principal.SetRefreshTokenLifetime(left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
        return principal;
    }

    /// <summary>An application's principal: its own subject (<c>app:</c> and the client id), no roles and no <c>amr</c>, so it is never taken for a person (FCR-7).</summary>
    public ClaimsPrincipal ForApplication(string clientId, string? registeredBy, IEnumerable<string> scopes)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.PreferredUsername, Claims.Role);
        identity.SetClaim(Claims.Subject, ApplicationSubject(clientId));
        identity.SetClaim(Claims.PreferredUsername, clientId);
        identity.SetClaim("client_id", clientId);
        if (registeredBy is not null)
        {
            identity.SetClaim(SpeClaims.RegisteredBy, registeredBy);
        }

        return Finish(identity, scopes);
    }

    /// <summary>The subject of an application's tokens: never a valid account id (those are GUIDs).</summary>
    public static string ApplicationSubject(string clientId) => "app:" + clientId;

    /// <summary>A session-cookie principal for the interactive pages.</summary>
    public async Task<ClaimsPrincipal> ForSessionAsync(SpeUser user, IEnumerable<string> authenticationMethods)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = await BaseAsync(user, IdentitySetup.SessionCookie);
        identity.SetClaims("amr", [.. authenticationMethods]);
        identity.SetClaim(SpeClaims.SessionStart, time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new ClaimsPrincipal(identity);
    }

    /// <summary>When the session behind <paramref name="principal"/> began, or null when it does not say.</summary>
    public static DateTimeOffset? SessionStartOf(ClaimsPrincipal principal) =>
        long.TryParse(principal?.FindFirst(SpeClaims.SessionStart)?.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private async Task<ClaimsIdentity> BaseAsync(SpeUser user, string? authenticationType = null)
    {
        var identity = new ClaimsIdentity(authenticationType ?? TokenValidationParameters.DefaultAuthenticationType, Claims.PreferredUsername, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id);
        identity.SetClaim(Claims.PreferredUsername, user.UserName);
        identity.SetClaims(Claims.Role, [.. (await users.GetRolesAsync(user)).Order(StringComparer.Ordinal)]);
        identity.SetClaim(SpeClaims.Stamp, AccountStateCache.StampOf(user));
        return identity;
    }

    private ClaimsPrincipal Finish(ClaimsIdentity identity, IEnumerable<string> scopes)
    {
        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes);
        principal.SetResources(tokens.Value.Audience);
        // Every claim here is needed by the API's policies and audit; none is a secret.
        principal.SetDestinations(_ => [Destinations.AccessToken]);
        return principal;
    }
}
