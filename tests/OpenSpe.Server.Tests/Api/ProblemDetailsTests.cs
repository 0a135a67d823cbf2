using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>Every class of error answers an RFC 9457 problem with no internals (TIR-10).</summary>
public sealed class ProblemDetailsTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync(map: app =>
        {
            app.MapGet("/api/v1/test/crash", string () =>
                throw new InvalidOperationException("SqliteException at /work/main/src/Secret.cs:line 42 SELECT * FROM secrets"))
                .RequireAuthorization();
        });
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task Unhandled_exception_becomes_500_without_internals()
    {
        using var client = await _server.ClientAsAsync("auditor1", "auditor");

        var response = await client.GetAsync("/api/v1/test/crash");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.InternalServerError);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task Missing_token_is_401_problem()
    {
        var response = await _server.Client.GetAsync("/api/v1/audit/records");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task Wrong_role_is_403_problem()
    {
        using var client = await _server.ClientAsAsync("researcher1", "researcher");

        var response = await client.GetAsync("/api/v1/audit/records");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task Unknown_route_is_404_problem()
    {
        using var client = await _server.ClientAsAsync("auditor1", "auditor");

        var response = await client.GetAsync("/api/v1/no-such-thing");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task Wrong_method_is_405_problem()
    {
        using var client = await _server.ClientAsAsync("auditor1", "auditor");

        var response = await client.DeleteAsync("/api/v1/audit/records");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    [Trait("Requirement", "TIR-9")]
    public async Task Oversized_body_is_413_problem()
    {
        using var client = await _server.ClientAsAsync("operator1", "operator");
        var huge = "{\"reason\":\"" + new string('a', 2 * 1024 * 1024) + "\"}";

        var response = await client.PostAsync("/api/v1/audit/purge", new StringContent(huge, Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    [Trait("Requirement", "TIR-4")]
    public async Task Non_json_body_is_415_problem()
    {
        using var client = await _server.ClientAsAsync("operator1", "operator");

        var response = await client.PostAsync("/api/v1/audit/purge", new StringContent("reason=x", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("application/json; charset=bogus", "/api/v1/account/activate", false)]
    [InlineData("application/json; charset=utf-16", "/api/v1/account/activate", false)]
    [InlineData("application/json; charset=\"no-such-set\"", "/api/v1/audit/purge", true)]
    [InlineData("application/problem+json; charset=bogus", "/api/v1/audit/purge", true)]
    [Trait("Requirement", "TIR-10")]
    [Trait("Requirement", "TIR-4")]
    public async Task A_body_in_a_charset_the_server_does_not_read_is_a_415_problem_signed_in_or_not(string contentType, string path, bool signedIn)
    {
        using var client = signedIn ? await _server.ClientAsAsync("operator1", "operator") : null;
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await (client ?? _server.Client).PostAsync(new Uri(path, UriKind.Relative), content, TestContext.Current.CancellationToken);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task Expired_token_is_401_problem_that_says_so()
    {
        var issuer = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler();
        var key = (OpenSpe.Server.Identity.TokenSigningKey)_server.Services.GetService(typeof(OpenSpe.Server.Identity.TokenSigningKey))!;
        var past = DateTime.UtcNow.AddMinutes(-20);
        var token = issuer.CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "openspe",
            Audience = "spe-api",
            IssuedAt = past,
            NotBefore = past,
            Expires = past.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = "sub-a", ["preferred_username"] = "a", ["role"] = "auditor", ["amr"] = new[] { "pwd", "otp" } },
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(key.SecurityKey, "ES256"),
        });
        using var client = _server.ClientWithToken(token);

        var response = await client.GetAsync("/api/v1/audit/records");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("expired", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    [Trait("Requirement", "TIR-22")]
    public async Task Token_without_second_factor_is_refused()
    {
        var token = await _server.PasswordOnlyTokenAsync("pwd-only", "auditor");
        using var client = _server.ClientWithToken(token);

        var response = await client.GetAsync("/api/v1/audit/records");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    [Trait("Requirement", "TIR-10")]
    [Trait("Requirement", "TIR-7")]
    public async Task Token_signed_by_another_key_is_refused()
    {
        // A genuine token from a real sign-in, re-signed with another P-256 key: issuer, audience, type, lifetime,
        // subject, stamp and second factor are all right, so only the signature can explain the refusal.
        var genuine = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await _server.TokenForAsync("forged-auditor", "auditor"));
        using var stillValid = _server.ClientWithToken(genuine.EncodedToken);
        Assert.Equal(HttpStatusCode.OK, (await stillValid.GetAsync("/api/v1/audit/records")).StatusCode);
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(genuine.EncodedPayload);
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(payload,
            new Microsoft.IdentityModel.Tokens.SigningCredentials(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(other) { KeyId = genuine.Kid }, "ES256"),
            new Dictionary<string, object> { ["typ"] = genuine.Typ });
        using var client = _server.ClientWithToken(token);

        var response = await client.GetAsync("/api/v1/audit/records");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("id+jwt")]
    [Trait("Requirement", "TIR-7")]
    public async Task Token_signed_by_the_servers_key_but_not_an_access_token_is_refused(string type)
    {
        // The server signs other JWTs with the same key and issuer (OpenIddict's identity tokens); only a token whose
        // header says it is an access token (RFC 9068: at+jwt) may call the API. The control re-signs the same payload as
        // at+jwt and is accepted, so only the type explains the refusal.
        var genuine = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await _server.TokenForAsync("typed-auditor", "auditor"));
        var key = _server.Services.GetRequiredService<OpenSpe.Server.Identity.TokenSigningKey>().SecurityKey;
        var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(genuine.EncodedPayload);
        string Resign(string typ) => new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }
            .CreateToken(payload, new Microsoft.IdentityModel.Tokens.SigningCredentials(key, "ES256"), new Dictionary<string, object> { ["typ"] = typ });

        using var control = _server.ClientWithToken(Resign("at+jwt"));
        Assert.Equal(HttpStatusCode.OK, (await control.GetAsync("/api/v1/audit/records")).StatusCode);
        using var client = _server.ClientWithToken(Resign(type));

        var response = await client.GetAsync("/api/v1/audit/records");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }
}
