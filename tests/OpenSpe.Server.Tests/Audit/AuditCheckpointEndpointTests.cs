using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Audit;

/// <summary><c>GET /api/v1/audit/checkpoints/latest</c>: the newest signed checkpoint for auditors only, with MFA, verifiable with the published key.</summary>
public sealed class AuditCheckpointEndpointTests : IAsyncLifetime
{
    private const string Latest = "/api/v1/audit/checkpoints/latest";
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Auditor_gets_the_newest_checkpoint_and_it_verifies_with_the_published_key()
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");
        await auditor.GetAsync("/api/v1/server/info");
        await _server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();

        var response = await auditor.GetAsync(Latest);
        var served = (await response.Content.ReadFromJsonAsync<AuditCheckpointDocument>(AuditJson.Options))!;
        var published = await _server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key");
        using var key = AuditSigningKey.FromPem(published.GetProperty("publicKeyPem").GetString()!);
        List<AuditCheckpoint> stored;
        await using (var connection = await _server.Database.OpenConnectionAsync())
        {
            stored = await AuditStore.ReadCheckpointsAsync(connection);
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(key.Verify(served.ToCheckpoint()));
        Assert.Equal(("ES256", key.KeyId), (served.Algorithm, served.KeyId));
        Assert.Equal(stored[^1].Sequence, served.Sequence);
        Assert.Equal(Convert.ToHexStringLower(stored[^1].Hash), served.Hash);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(stored[^1].SignedPayload()), served.SignedPayload);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Before_the_first_checkpoint_it_answers_404_with_a_problem()
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");

        var response = await auditor.GetAsync(Latest);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("SPE1007", problem.GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Without_a_token_it_answers_401()
    {
        var response = await _server.Client.GetAsync(Latest);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [Trait("Requirement", "TIR-7")]
    [InlineData(SpeRoles.Operator)]
    [InlineData(SpeRoles.Admin)]
    [InlineData(SpeRoles.Hdab)]
    [InlineData(SpeRoles.Researcher)]
    [InlineData(SpeRoles.DataHolder)]
    [InlineData(SpeRoles.OutputChecker)]
    public async Task Other_roles_get_403(string role)
    {
        await _server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        using var client = await _server.ClientAsAsync("someone", role);

        var response = await client.GetAsync(Latest);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-7")]
    public async Task Auditor_token_without_a_second_factor_gets_403()
    {
        await _server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        var token = await _server.PasswordOnlyTokenAsync("carol-no-mfa", SpeRoles.Auditor);
        using var client = _server.ClientWithToken(token);

        var response = await client.GetAsync(Latest);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Only_get_is_routed()
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");

        var response = await auditor.PostAsync(Latest, JsonContent.Create(new { sequence = 1 }));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task OpenApi_documents_the_endpoint_with_its_statuses()
    {
        var document = await _server.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var responses = document.GetProperty("paths").GetProperty("/api/v1/audit/checkpoints/latest").GetProperty("get").GetProperty("responses");

        Assert.All(new[] { "200", "401", "403", "404" }, status => Assert.True(responses.TryGetProperty(status, out _), $"status {status} is not documented"));
    }
}
