using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.UnitTests.Identity;

/// <summary>
/// Real JWTs, signed with keys made here, validated against the parameters the API's bearer schemes use.
/// Each refusal test changes one thing of an otherwise good token, so it fails when that one check is weakened.
/// </summary>
[Trait("Requirement", "TIR-7")]
public sealed class AccessTokenValidationTests : IDisposable
{
    private const string LocalIssuer = "https://spe.example/";
    private const string LocalAudience = "spe-api";
    private const string ExternalIssuer = "https://idp.example/";
    private const string ExternalAudience = "spe-at-idp";

    // Note: a whole second in the past, so the clock is not the wall clock and token times (whole seconds) land exactly.
    private static readonly DateTimeOffset Now = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private readonly FakeTimeProvider clock = new(Now);
    private readonly ECDsa signingEcdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa otherEcdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa p384Ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly RSA rsa = RSA.Create(2048);
    private readonly ECDsaSecurityKey signingKey;
    private readonly SymmetricSecurityKey symmetricKey = new(RandomNumberGenerator.GetBytes(32)) { KeyId = "hmac" };

    public AccessTokenValidationTests()
    {
        signingKey = new ECDsaSecurityKey(signingEcdsa) { KeyId = "spe-1" };
    }

    public enum Kind
    {
        Local,
        External,
    }

    public void Dispose()
    {
        signingEcdsa.Dispose();
        otherEcdsa.Dispose();
        p384Ecdsa.Dispose();
        rsa.Dispose();
    }

    [Theory]
    [InlineData(Kind.Local)]
    [InlineData(Kind.External)]
    public async Task A_good_token_is_accepted_with_name_and_roles_from_the_right_claims(Kind kind)
    {
        var result = await ValidateAsync(kind, Token(kind));

        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal("preferred_username", result.ClaimsIdentity.NameClaimType);
        Assert.Equal("role", result.ClaimsIdentity.RoleClaimType);
        Assert.Equal("alice", result.ClaimsIdentity.Name);
        var principal = new ClaimsPrincipal(result.ClaimsIdentity);
        Assert.True(principal.IsInRole("researcher"));
        Assert.True(principal.IsInRole("data-holder"));
        Assert.False(principal.IsInRole("admin"));
    }

    [Theory]
    [InlineData(Kind.Local)]
    [InlineData(Kind.External)]
    public async Task A_token_signed_by_another_key_with_the_same_key_id_is_refused(Kind kind)
    {
        var forged = new ECDsaSecurityKey(otherEcdsa) { KeyId = signingKey.KeyId };

        var result = await ValidateAsync(kind, Token(kind, d => d.SigningCredentials = new SigningCredentials(forged, SecurityAlgorithms.EcdsaSha256)));

        Assert.False(result.IsValid);
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(result.Exception);
    }

    [Theory]
    [InlineData(Kind.Local)]
    [InlineData(Kind.External)]
    public async Task An_unsigned_token_is_refused(Kind kind)
    {
        var unsigned = Token(kind, d => d.SigningCredentials = null);
        Assert.Equal("none", new JsonWebToken(unsigned).Alg);

        var result = await ValidateAsync(kind, unsigned);

        Assert.False(result.IsValid);
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(result.Exception);
    }

    [Theory]
    [InlineData(Kind.Local, SecurityAlgorithms.HmacSha256)]
    [InlineData(Kind.Local, SecurityAlgorithms.EcdsaSha384)]
    [InlineData(Kind.Local, SecurityAlgorithms.RsaSha512)]
    [InlineData(Kind.Local, SecurityAlgorithms.RsaSsaPssSha256)]
    [InlineData(Kind.External, SecurityAlgorithms.HmacSha256)]
    [InlineData(Kind.External, SecurityAlgorithms.EcdsaSha384)]
    public async Task A_token_signed_with_an_algorithm_outside_the_list_is_refused_even_by_a_known_key(Kind kind, string algorithm)
    {
        var token = Token(kind, d => d.SigningCredentials = Credentials(algorithm));

        var result = await ValidateAsync(kind, token, withOtherAlgorithmKeys: true);

        Assert.False(result.IsValid);
        // The handler reports the refused algorithm as a failed signature (the detail is hidden as PII).
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(result.Exception);
        // Note: the key is among the validation keys, so only the algorithm list stands between this token and the API.
        var withoutList = await ValidateAsync(kind, token, withOtherAlgorithmKeys: true, adjust: p => p.ValidAlgorithms = null);
        Assert.True(withoutList.IsValid, withoutList.Exception?.ToString());
    }

    [Theory]
    [InlineData(Kind.Local, SecurityAlgorithms.EcdsaSha256)]
    [InlineData(Kind.Local, SecurityAlgorithms.RsaSha256)]
    [InlineData(Kind.External, SecurityAlgorithms.EcdsaSha256)]
    [InlineData(Kind.External, SecurityAlgorithms.RsaSha256)]
    public async Task ES256_and_RS256_are_the_accepted_algorithms(Kind kind, string algorithm)
    {
        var result = await ValidateAsync(kind, Token(kind, d => d.SigningCredentials = Credentials(algorithm)), withOtherAlgorithmKeys: true);

        Assert.True(result.IsValid, result.Exception?.ToString());
    }

    [Theory]
    [InlineData(Kind.Local, "https://spe.example")]
    [InlineData(Kind.Local, "https://other.example/")]
    [InlineData(Kind.Local, ExternalIssuer)]
    [InlineData(Kind.External, LocalIssuer)]
    [InlineData(Kind.External, "https://IDP.example/")]
    public async Task A_token_from_another_issuer_is_refused(Kind kind, string issuer)
    {
        var result = await ValidateAsync(kind, Token(kind, d => d.Issuer = issuer));

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenInvalidIssuerException>(result.Exception);
    }

    [Theory]
    [InlineData(Kind.Local, "spe-cli")]
    [InlineData(Kind.Local, ExternalAudience)]
    [InlineData(Kind.External, LocalAudience)]
    [InlineData(Kind.External, "SPE-AT-IDP")]
    public async Task A_token_for_another_audience_is_refused(Kind kind, string audience)
    {
        var result = await ValidateAsync(kind, Token(kind, d => d.Audience = audience));

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenInvalidAudienceException>(result.Exception);
    }

    [Theory]
    [InlineData(Kind.Local, 600, true)]
    [InlineData(Kind.Local, 1, true)]
    [InlineData(Kind.Local, -29, true)] // expired, within the 30 s clock skew
    [InlineData(Kind.Local, -30, false)] // expired by exactly the skew
    [InlineData(Kind.Local, -31, false)]
    [InlineData(Kind.Local, -600, false)]
    [InlineData(Kind.External, -29, true)]
    [InlineData(Kind.External, -30, false)]
    [InlineData(Kind.External, -600, false)]
    public async Task A_token_is_valid_until_its_expiry_plus_the_clock_skew_on_the_servers_clock(Kind kind, int expiresInSeconds, bool valid)
    {
        var expires = Now.AddSeconds(expiresInSeconds).UtcDateTime;

        var result = await ValidateAsync(kind, Token(kind, d => (d.NotBefore, d.Expires) = (Now.AddMinutes(-20).UtcDateTime, expires)));

        Assert.Equal(valid, result.IsValid);
        if (!valid)
        {
            var expired = Assert.IsType<SecurityTokenExpiredException>(result.Exception);
            Assert.Equal(expires, expired.Expires);
            Assert.Equal("The token has expired.", expired.Message);
        }
    }

    [Theory]
    [InlineData(Kind.Local, 0, true)]
    [InlineData(Kind.Local, 30, true)] // in the future, within the skew
    [InlineData(Kind.Local, 31, false)]
    [InlineData(Kind.Local, 300, false)]
    [InlineData(Kind.External, 30, true)]
    [InlineData(Kind.External, 31, false)]
    public async Task A_token_is_not_valid_before_its_not_before_minus_the_clock_skew(Kind kind, int notBeforeInSeconds, bool valid)
    {
        var notBefore = Now.AddSeconds(notBeforeInSeconds).UtcDateTime;

        var result = await ValidateAsync(kind, Token(kind, d => d.NotBefore = notBefore));

        Assert.Equal(valid, result.IsValid);
        if (!valid)
        {
            var early = Assert.IsType<SecurityTokenNotYetValidException>(result.Exception);
            Assert.Equal(notBefore, early.NotBefore);
            Assert.Equal("The token is not yet valid.", early.Message);
        }
    }

    [Theory]
    [InlineData(Kind.Local)]
    [InlineData(Kind.External)]
    public async Task A_token_without_an_expiry_is_refused_as_expired(Kind kind)
    {
        var result = await ValidateAsync(kind, Token(kind, d => d.Expires = null));

        Assert.False(result.IsValid);
        var expired = Assert.IsType<SecurityTokenExpiredException>(result.Exception);
        Assert.Equal(DateTime.MinValue, expired.Expires);
    }

    [Theory]
    [InlineData(Kind.Local)]
    [InlineData(Kind.External)]
    public async Task Lifetimes_are_judged_on_the_servers_clock_not_the_machines(Kind kind)
    {
        // Valid on the wall clock, not yet valid on the server's (test) clock, years earlier.
        var wall = DateTime.UtcNow;
        var result = await ValidateAsync(kind, Token(kind, d => (d.NotBefore, d.Expires) = (wall.AddMinutes(-1), wall.AddMinutes(10))));
        Assert.IsType<SecurityTokenNotYetValidException>(result.Exception);

        // Moving the server's clock past the expiry ends the token.
        var token = Token(kind);
        Assert.True((await ValidateAsync(kind, token)).IsValid);
        clock.Advance(TimeSpan.FromMinutes(16));
        Assert.IsType<SecurityTokenExpiredException>((await ValidateAsync(kind, token)).Exception);
    }

    [Theory]
    [InlineData("JWT")] // what OpenIddict's identity tokens carry, signed with the same key for the same issuer
    [InlineData("jwt")]
    [InlineData("JOSE")]
    [InlineData("rt+jwt")]
    [InlineData("at+jwt ")]
    public async Task A_local_token_that_is_not_an_access_token_is_refused(string type)
    {
        var result = await ValidateAsync(Kind.Local, Token(Kind.Local, d => d.TokenType = type));

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenInvalidTypeException>(result.Exception);
    }

    [Fact]
    public async Task An_identity_token_of_the_local_issuer_is_refused()
    {
        // The shape of an OpenIddict identity token: typ JWT, a nonce and the authorized party, same issuer and key.
        var idToken = Token(Kind.Local, d =>
        {
            d.TokenType = "JWT";
            d.Claims["nonce"] = "n";
            d.Claims["azp"] = "spe-cli";
        });

        var result = await ValidateAsync(Kind.Local, idToken);

        Assert.IsType<SecurityTokenInvalidTypeException>(result.Exception);
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    public async Task An_external_providers_token_type_is_not_checked(string type)
    {
        // Providers type their access tokens differently (many say JWT); the provider's MFA claim and the account mapping decide.
        var result = await ValidateAsync(Kind.External, Token(Kind.External, d => d.TokenType = type));

        Assert.True(result.IsValid, result.Exception?.ToString());
    }

    [Fact]
    public void External_keys_are_not_fixed_at_start_but_come_from_the_providers_key_set()
    {
        var parameters = AccessTokenValidation.ForExternalProvider(ExternalIssuer, ExternalAudience, clock);

        Assert.Null(parameters.IssuerSigningKeys);
        Assert.Null(parameters.IssuerSigningKey);
        Assert.Empty(parameters.ValidTypes ?? []);
    }

    [Fact]
    public async Task A_local_token_is_checked_only_against_the_given_keys()
    {
        var parameters = AccessTokenValidation.ForLocalTokens(LocalIssuer, LocalAudience, [signingKey], clock);
        Assert.Same(signingKey, Assert.Single(parameters.IssuerSigningKeys));

        var withoutKeys = AccessTokenValidation.ForLocalTokens(LocalIssuer, LocalAudience, [], clock);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(Token(Kind.Local), withoutKeys);
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(result.Exception);
    }

    [Fact]
    public void Both_kinds_require_an_expiry_and_a_signature_with_a_30_second_skew()
    {
        // Note: the lifetime delegate already refuses a token without exp; the flag is asserted so that dropping the
        // delegate would not drop the requirement with it.
        foreach (var parameters in new[]
        {
            AccessTokenValidation.ForLocalTokens(LocalIssuer, LocalAudience, [signingKey], clock),
            AccessTokenValidation.ForExternalProvider(ExternalIssuer, ExternalAudience, clock),
        })
        {
            Assert.True(parameters.RequireExpirationTime);
            Assert.True(parameters.RequireSignedTokens);
            Assert.Equal(TimeSpan.FromSeconds(30), parameters.ClockSkew);
        }

        Assert.Equal(TimeSpan.FromSeconds(30), AccessTokenValidation.ClockSkew);
        Assert.Equal("at+jwt", AccessTokenValidation.LocalTokenType);
    }

    [Fact]
    public void Missing_keys_or_clock_are_refused_by_name()
    {
        Assert.Equal("keys", Assert.Throws<ArgumentNullException>(() => AccessTokenValidation.ForLocalTokens(LocalIssuer, LocalAudience, null!, clock)).ParamName);
        Assert.Equal("time", Assert.Throws<ArgumentNullException>(() => AccessTokenValidation.ForLocalTokens(LocalIssuer, LocalAudience, [signingKey], null!)).ParamName);
        Assert.Equal("time", Assert.Throws<ArgumentNullException>(() => AccessTokenValidation.ForExternalProvider(ExternalIssuer, ExternalAudience, null!)).ParamName);
    }

    private Task<TokenValidationResult> ValidateAsync(Kind kind, string token, bool withOtherAlgorithmKeys = false, Action<TokenValidationParameters>? adjust = null)
    {
        List<SecurityKey> keys = [signingKey];
        if (withOtherAlgorithmKeys)
        {
            keys.AddRange([symmetricKey, new ECDsaSecurityKey(p384Ecdsa) { KeyId = "p384" }, new RsaSecurityKey(rsa) { KeyId = "rsa" }]);
        }

        TokenValidationParameters parameters;
        if (kind == Kind.Local)
        {
            parameters = AccessTokenValidation.ForLocalTokens(LocalIssuer, LocalAudience, keys, clock);
        }
        else
        {
            parameters = AccessTokenValidation.ForExternalProvider(ExternalIssuer, ExternalAudience, clock);
            // What the JwtBearer scheme does with the keys its configuration manager read from the provider's JWKS.
            parameters.IssuerSigningKeys = keys;
        }

        adjust?.Invoke(parameters);
        return new JsonWebTokenHandler().ValidateTokenAsync(token, parameters);
    }

    private SigningCredentials Credentials(string algorithm) => algorithm switch
    {
        SecurityAlgorithms.HmacSha256 => new SigningCredentials(symmetricKey, algorithm),
        SecurityAlgorithms.EcdsaSha384 => new SigningCredentials(new ECDsaSecurityKey(p384Ecdsa) { KeyId = "p384" }, algorithm),
        SecurityAlgorithms.EcdsaSha256 => new SigningCredentials(signingKey, algorithm),
        _ => new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = "rsa" }, algorithm),
    };

    /// <summary>A good token of <paramref name="kind"/> (valid for 15 minutes on the test clock), then <paramref name="change"/> applied.</summary>
    private string Token(Kind kind, Action<SecurityTokenDescriptor>? change = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = kind == Kind.Local ? LocalIssuer : ExternalIssuer,
            Audience = kind == Kind.Local ? LocalAudience : ExternalAudience,
            TokenType = kind == Kind.Local ? AccessTokenValidation.LocalTokenType : "JWT",
            IssuedAt = Now.UtcDateTime,
            NotBefore = Now.UtcDateTime,
            Expires = Now.AddMinutes(15).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "8d0c6a9e-0000-4000-8000-000000000001",
                ["preferred_username"] = "alice",
                ["role"] = new[] { "researcher", "data-holder" },
                ["amr"] = new[] { "pwd", "otp" },
            },
            SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.EcdsaSha256),
        };
        change?.Invoke(descriptor);
        // Note: no times from the wall clock; every time in a token is set here or by the test, relative to the test clock.
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
