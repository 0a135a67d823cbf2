using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>Builds the identity that goes into tokens: subject, name, current roles, how the person signed in, and the API audience.</summary>
public sealed class TokenPrincipals(UserManager<SpeUser> users, Microsoft.Extensions.Options.IOptions<TokenOptions> tokens)
{
    /// <summary>A person's principal; <paramref name="authenticationMethods"/> become <c>amr</c>.</summary>
    public async Task<ClaimsPrincipal> ForPersonAsync(SpeUser user, IEnumerable<string> authenticationMethods, IEnumerable<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = await BaseAsync(user);
        identity.SetClaims("amr", [.. authenticationMethods]);
        return Finish(identity, scopes);
    }

    /// <summary>A client acting for its bound account: the account's roles, no <c>amr</c> (so no person-only rights).</summary>
    public async Task<ClaimsPrincipal> ForClientAsync(SpeUser account, string clientId, IEnumerable<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(account);
        var identity = await BaseAsync(account);
        identity.SetClaim("client_id", clientId);
        return Finish(identity, scopes);
    }

    /// <summary>A session-cookie principal for the interactive pages.</summary>
    public async Task<ClaimsPrincipal> ForSessionAsync(SpeUser user, IEnumerable<string> authenticationMethods)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = await BaseAsync(user, IdentitySetup.SessionCookie);
        identity.SetClaims("amr", [.. authenticationMethods]);
        return new ClaimsPrincipal(identity);
    }

    private async Task<ClaimsIdentity> BaseAsync(SpeUser user, string? authenticationType = null)
    {
        var identity = new ClaimsIdentity(authenticationType ?? TokenValidationParameters.DefaultAuthenticationType, Claims.PreferredUsername, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id);
        identity.SetClaim(Claims.PreferredUsername, user.UserName);
        identity.SetClaims(Claims.Role, [.. (await users.GetRolesAsync(user)).Order(StringComparer.Ordinal)]);
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
