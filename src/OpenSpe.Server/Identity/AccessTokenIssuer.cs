using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OpenSpe.Server.Identity;

/// <summary>Who a token is for: the claims that the API's policies read.</summary>
/// <param name="SubjectId">Account or client id (<c>sub</c>).</param>
/// <param name="Username">Account name (<c>preferred_username</c>).</param>
/// <param name="Roles">Roles (<c>role</c>).</param>
/// <param name="AuthenticationMethods">How the holder signed in (<c>amr</c>), e.g. <c>pwd</c> and <c>otp</c>.</param>
/// <param name="ClientId">OAuth client (<c>client_id</c>).</param>
/// <param name="Stamp">The account's security stamp digest (<see cref="SpeClaims.Stamp"/>): without the current one, the API refuses the token.</param>
/// <param name="Scope">What a scoped token opens (<see cref="SpeClaims.Scope"/>), e.g. an upload ticket; null for a full token.</param>
/// <param name="ScopeProject">The one project a scoped token opens.</param>
internal sealed record TokenSubject(string SubjectId, string Username, IReadOnlyList<string> Roles, IReadOnlyList<string> AuthenticationMethods, string? ClientId = null, string? Stamp = null,
    string? Scope = null, string? ScopeProject = null);

/// <summary>
/// Mints short-lived ES256 access tokens with the server's key, without a sign-in: the upload tickets (a scoped token for a
/// signed-in holder, minted from their own token's claims) and the load benchmark. OpenIddict issues every sign-in's tokens.
/// A minted token still passes session validation only with a real account's subject id and current stamp.
/// </summary>
internal sealed class AccessTokenIssuer(TokenSigningKey key, IOptions<TokenOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>Issues an access token for <paramref name="subject"/>, valid for the configured lifetime (at most 15 minutes).</summary>
    public string Issue(TokenSubject subject, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var now = time.GetUtcNow().UtcDateTime;
        var life = lifetime is { } l && l < options.Value.AccessTokenLifetime ? l : options.Value.AccessTokenLifetime;
        var claims = new List<Claim>
        {
            new("sub", subject.SubjectId),
            new("preferred_username", subject.Username),
            new("jti", Guid.NewGuid().ToString("N")),
        };
        claims.AddRange(subject.Roles.Select(r => new Claim("role", r)));
        claims.AddRange(subject.AuthenticationMethods.Select(a => new Claim("amr", a)));
        if (subject.ClientId is not null)
        {
            claims.Add(new Claim("client_id", subject.ClientId));
        }

        if (subject.Stamp is not null)
        {
            claims.Add(new Claim(SpeClaims.Stamp, subject.Stamp));
        }

        if (subject.Scope is not null)
        {
            claims.Add(new Claim(SpeClaims.Scope, subject.Scope));
            claims.Add(new Claim(SpeClaims.ScopeProject, subject.ScopeProject ?? ""));
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.Add(life),
            SigningCredentials = new SigningCredentials(key.SecurityKey, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
