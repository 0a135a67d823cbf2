using System.Net;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>Signed permit documents and GA4GH visas verify offline with the published key, using a standard JOSE library; tampering breaks them (EHDSR-1, FCR-7, FCR-1).</summary>
public sealed class PermitDocumentTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync();

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task Permit_document_verifies_with_the_published_key_and_tampering_breaks_it()
    {
        var (permitId, projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start, PermitFixture.Start.AddDays(365)));
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");

        var response = await hdab.GetAsync($"/api/v1/permits/{permitId}/document");
        var jws = await response.Content.ReadAsStringAsync();
        var payload = await VerifyWithPublishedKeyAsync(_f.Server, jws);
        var parts = jws.Split('.');
        var tamperedPayload = Base64UrlEncoder.Encode(Base64UrlEncoder.DecodeBytes(parts[1]).Select(b => b == (byte)'2' ? (byte)'3' : b).ToArray());
        var tampered = $"{parts[0]}.{tamperedPayload}.{parts[2]}";

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/jose", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(permitId, payload.GetProperty("permitId").GetString());
        Assert.Equal(projectId, payload.GetProperty("projectId").GetString());
        Assert.Equal("HDAB-FI-2026-0042", payload.GetProperty("permit").GetProperty("reference").GetString());
        await Assert.ThrowsAnyAsync<Exception>(() => VerifyWithPublishedKeyAsync(_f.Server, tampered));
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public async Task Each_data_user_gets_a_signed_controlled_access_grants_visa()
    {
        var (permitId, _) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start, PermitFixture.Start.AddDays(365)));
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        using var hdab = await _f.Server.ClientForAccountAsync("hdab");

        var visas = JsonDocument.Parse(await hdab.GetStringAsync($"/api/v1/permits/{permitId}/visas")).RootElement;
        var own = JsonDocument.Parse(await researcher.GetStringAsync($"/api/v1/permits/{permitId}/visas")).RootElement;
        var first = await VerifyWithPublishedKeyAsync(_f.Server, own[0].GetProperty("visa").GetString()!);

        Assert.Equal(["researcher", "researcher2"], visas.EnumerateArray().Select(v => v.GetProperty("user").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(["researcher"], own.EnumerateArray().Select(v => v.GetProperty("user").GetString()));
        var visa = first.GetProperty("ga4gh_visa_v1");
        Assert.Equal("ControlledAccessGrants", visa.GetProperty("type").GetString());
        Assert.EndsWith($"/api/v1/permits/{permitId}/datasets/omop-2026", visa.GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Equal("dac", visa.GetProperty("by").GetString());
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "SDR-1")]
    public async Task Visas_are_credentials_that_operators_auditors_and_other_holders_never_read()
    {
        var (permitId, _) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start, PermitFixture.Start.AddDays(365), "HDAB-VISA-1"));

        foreach (var reader in new[] { "operator", "auditor", "holder", "admin", "checker" })
        {
            using var client = await _f.Server.ClientForAccountAsync(reader);
            var response = await client.GetAsync($"/api/v1/permits/{permitId}/visas");
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.Forbidden, $"{reader} got {(int)response.StatusCode}");
        }

        using var outsider = await _f.Server.ClientAsAsync("visa-outsider", "researcher");
        var notNamed = await outsider.GetAsync($"/api/v1/permits/{permitId}/visas");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notNamed.StatusCode);
    }

    /// <summary>Verifies a JWS with the JWK set at /.well-known/spe-keys.json and returns its payload.</summary>
    public static async Task<JsonElement> VerifyWithPublishedKeyAsync(SpeTestServer server, string jws)
    {
        var jwks = new JsonWebKeySet(await server.Client.GetStringAsync("/.well-known/spe-keys.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(jws, new TokenValidationParameters
        {
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            ValidAlgorithms = ["ES256"],
        });
        if (!result.IsValid)
        {
            throw result.Exception ?? new SecurityTokenException("invalid");
        }

        return JsonDocument.Parse(Base64UrlEncoder.Decode(((JsonWebToken)result.SecurityToken).EncodedPayload)).RootElement.Clone();
    }
}
