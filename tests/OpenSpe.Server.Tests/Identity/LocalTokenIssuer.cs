using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// A second token issuer running next to the SPE, standing in for an external OpenID Connect
/// provider: a real Kestrel server on loopback with its own self-signed TLS certificate, serving
/// the JWKS of its own RSA signing key at <c>/jwks</c>, and minting tokens with that key.
/// </summary>
public sealed class LocalTokenIssuer : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _signingKey;

    private LocalTokenIssuer(string issuer, TempDirectory directory, WebApplication app, RsaSecurityKey signingKey, string fingerprint)
    {
        Issuer = issuer;
        _directory = directory;
        _app = app;
        _signingKey = signingKey;
        CertificateFingerprint = fingerprint;
        JwksUrl = new Uri(new Uri(app.Urls.Single()), "/jwks");
    }

    /// <summary>The <c>iss</c> of its tokens.</summary>
    public string Issuer { get; }

    /// <summary>Where its JWKS is served (HTTPS, loopback).</summary>
    public Uri JwksUrl { get; }

    /// <summary>SHA-256 fingerprint of its TLS certificate, as the SPE pins it.</summary>
    public string CertificateFingerprint { get; }

    /// <summary>Starts the issuer on a free loopback port.</summary>
    public static async Task<LocalTokenIssuer> StartAsync(string issuer)
    {
        var directory = new TempDirectory();
        try
        {
            var certificate = TlsCertificates.LoadOrCreateDev(DataDirectory.Open(directory.File("tls")), TimeProvider.System);
            var signingKey = NewKey("idp-key-1");
            var jwks = JwksDocument(signingKey);

            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
                kestrel.Listen(IPAddress.Loopback, SpeTestServer.FreePort(), listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                }));
            var app = builder.Build();
            app.Run(context =>
            {
                if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Path != "/jwks")
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(jwks);
            });
            await app.StartAsync();
            return new LocalTokenIssuer(issuer, directory, app, signingKey, TlsCertificates.Fingerprint(certificate));
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>A new RSA signing key (private) with the given key id.</summary>
    public static RsaSecurityKey NewKey(string keyId)
    {
        using var rsa = RSA.Create(2048);
        return new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: true)) { KeyId = keyId };
    }

    /// <summary>
    /// A signed access token for <paramref name="subject"/>; <paramref name="claims"/> adds claims such as
    /// <c>amr</c> (a string array) or <c>acr</c>; <paramref name="signWith"/> signs with another key instead of the issuer's.
    /// </summary>
    public string Mint(string subject, string audience, IReadOnlyDictionary<string, object>? claims = null, SecurityKey? signWith = null)
    {
        var now = DateTime.UtcNow;
        var payload = new Dictionary<string, object>(StringComparer.Ordinal) { ["sub"] = subject };
        foreach (var (name, value) in claims ?? new Dictionary<string, object>())
        {
            payload[name] = value;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            Claims = payload,
            SigningCredentials = new SigningCredentials(signWith ?? _signingKey, SecurityAlgorithms.RsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    private static string JwksDocument(RsaSecurityKey signingKey)
    {
        // Only the public half is published.
        var publicKey = new RsaSecurityKey(new RSAParameters { Modulus = signingKey.Parameters.Modulus, Exponent = signingKey.Parameters.Exponent }) { KeyId = signingKey.KeyId };
        var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(publicKey);
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = SecurityAlgorithms.RsaSha256, n = jwk.N, e = jwk.E } },
        });
    }
}
