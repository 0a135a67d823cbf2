using Microsoft.IdentityModel.Tokens;

namespace OpenSpe.Server.Identity;

/// <summary>
/// What a bearer token must satisfy to call the API: the validation parameters of this SPE's own
/// access tokens and of a trusted external provider's tokens. Pure (no DI, no HTTP), so the unit
/// tests validate real tokens against exactly what the JwtBearer schemes use.
/// </summary>
internal static class AccessTokenValidation
{
    /// <summary>The JWT <c>typ</c> of an OAuth 2.0 access token (RFC 9068); the only type a local token may have.</summary>
    public const string LocalTokenType = "at+jwt";

    /// <summary>How far the token's clock may be from the server's.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>Parameters for this SPE's own access tokens, signed by one of <paramref name="keys"/>.</summary>
    public static TokenValidationParameters ForLocalTokens(string issuer, string audience, IEnumerable<SecurityKey> keys, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var parameters = Common(issuer, audience, time);
        parameters.IssuerSigningKeys = keys;
        // Note: the same key and issuer sign OpenIddict's identity tokens; only an access token (RFC 9068) may call the API.
        parameters.ValidTypes = [LocalTokenType];
        return parameters;
    }

    /// <summary>
    /// Parameters for an external provider's tokens. No keys here: the JwtBearer scheme adds the
    /// provider's current JWKS keys. No type check: providers type their access tokens differently.
    /// </summary>
    public static TokenValidationParameters ForExternalProvider(string issuer, string audience, TimeProvider time) =>
        Common(issuer, audience, time);

    private static TokenValidationParameters Common(string issuer, string audience, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = ClockSkew,
            NameClaimType = "preferred_username",
            RoleClaimType = "role",
            // Lifetimes are judged on the server's TimeProvider, the same clock that permits, audit and tokens use.
            LifetimeValidator = (notBefore, expires, _, parameters) => ValidateLifetime(notBefore, expires, parameters.ClockSkew, time),
        };
    }

    private static bool ValidateLifetime(DateTime? notBefore, DateTime? expires, TimeSpan skew, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (expires is null || expires.Value.Add(skew) <= now)
        {
            // Note: the challenge tells an expired token apart by this exception type ("refresh it or sign in again").
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires ?? DateTime.MinValue };
        }

        if (notBefore is { } nbf && nbf > now.Add(skew))
        {
            throw new SecurityTokenNotYetValidException("The token is not yet valid.") { NotBefore = nbf };
        }

        return true;
    }
}
