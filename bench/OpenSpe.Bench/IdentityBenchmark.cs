using System.Security.Claims;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Identity;

namespace OpenSpe.Bench;

/// <summary>
/// The two costs of identity: checking a password at sign-in (PBKDF2, deliberately slow) and
/// validating an access token on every request (ES256 signature, deliberately cheap).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class IdentityBenchmark
{
    private readonly PasswordHasher<SpeUser> _hasher = new(Options.Create(new PasswordHasherOptions()));
    private readonly SpeUser _user = new() { UserName = "bench" };
    private readonly JsonWebTokenHandler _handler = new();
    private string _hash = "";
    private string _token = "";
    private TokenValidationParameters _parameters = null!;
    private ECDsa _key = null!;

    [GlobalSetup]
    public void Setup()
    {
        _hash = _hasher.HashPassword(_user, "Correct-Horse-Battery-Staple-7");
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var securityKey = new ECDsaSecurityKey(_key) { KeyId = "bench" };
        _token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://127.0.0.1:8443/",
            Audience = "spe-api",
            Expires = DateTime.UtcNow.AddMinutes(10),
            Subject = new ClaimsIdentity([new Claim("sub", "u1"), new Claim("role", "researcher"), new Claim("amr", "pwd"), new Claim("amr", "otp")]),
            SigningCredentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256),
        });
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = "https://127.0.0.1:8443/",
            ValidAudience = "spe-api",
            IssuerSigningKey = securityKey,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    /// <summary>What a sign-in pays for the password (Identity V3: PBKDF2-HMAC-SHA512, 100,000 iterations).</summary>
    [Benchmark]
    public PasswordVerificationResult VerifyPassword() => _hasher.VerifyHashedPassword(_user, _hash, "Correct-Horse-Battery-Staple-7");

    /// <summary>What every API request pays to validate its bearer token.</summary>
    [Benchmark]
    public async Task<bool> ValidateAccessToken() => (await _handler.ValidateTokenAsync(_token, _parameters)).IsValid;
}
