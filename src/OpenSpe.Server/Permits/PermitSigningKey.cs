using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Permits;

/// <summary>
/// The ES256 key that signs permit documents, GA4GH visas and erasure certificates, so a
/// federation peer or an auditor can verify them offline against <c>/.well-known/spe-keys.json</c>.
/// </summary>
internal sealed class PermitSigningKey : IDisposable
{
    /// <summary>File name in the data directory.</summary>
    public const string FileName = "permit-signing.key";

    private readonly ECDsa _key;
    private readonly JsonWebTokenHandler _handler = new();

    private PermitSigningKey(ECDsa key)
    {
        _key = key;
        SecurityKey = new ECDsaSecurityKey(key) { KeyId = "permit-" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16] };
    }

    /// <summary>The key for the token libraries.</summary>
    public ECDsaSecurityKey SecurityKey { get; }

    /// <summary>Loads the key, generating it on first start.</summary>
    public static PermitSigningKey LoadOrCreate(DataDirectory directory) => new(P256KeyFile.LoadOrCreate(directory, FileName));

    /// <summary>The public key as a JWK set (what <c>/.well-known/spe-keys.json</c> serves).</summary>
    public JsonElement PublicJwks()
    {
        var parameters = _key.ExportParameters(false);
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
            ["kid"] = SecurityKey.KeyId,
            ["use"] = "sig",
            ["alg"] = "ES256",
        };
        return JsonSerializer.SerializeToElement(new { keys = new[] { jwk } });
    }

    /// <summary>Signs a JSON payload as a compact JWS (ES256) with the given <c>typ</c>.</summary>
    public string SignJson(string payloadJson, string type)
    {
        return _handler.CreateToken(payloadJson, new SigningCredentials(SecurityKey, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["typ"] = type });
    }

    /// <summary>Signs claims as a JWT.</summary>
    public string SignClaims(IDictionary<string, object> claims, DateTimeOffset issuedAt, DateTimeOffset expires, string issuer, string type = "JWT") =>
        _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            IssuedAt = issuedAt.UtcDateTime,
            NotBefore = issuedAt.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            TokenType = type,
            SigningCredentials = new SigningCredentials(SecurityKey, SecurityAlgorithms.EcdsaSha256),
        });

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
