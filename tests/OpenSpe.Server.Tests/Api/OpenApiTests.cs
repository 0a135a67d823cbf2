using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>The OpenAPI document covers every endpoint, with schemas and the bearer scheme (TIR-6), and every endpoint declares its authorization (deny by default).</summary>
public sealed class OpenApiTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-6")]
    [Trait("Requirement", "TIR-2")]
    public async Task Document_lists_every_endpoint_with_its_security()
    {
        var response = await _server.Client.GetAsync("/openapi/v1.json");
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var paths = document.GetProperty("paths");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        foreach (var endpoint in Endpoints())
        {
            var path = "/" + endpoint.RoutePattern.RawText!.Trim('/');
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)
            {
                Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out var operation), $"{method} {path} is missing");
                var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
                Assert.Equal(!anonymous, operation.TryGetProperty("security", out _));
            }
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-6")]
    public async Task Request_and_response_schemas_are_described()
    {
        var document = JsonDocument.Parse(await _server.Client.GetStringAsync("/openapi/v1.json")).RootElement;
        var purge = document.GetProperty("paths").GetProperty("/api/v1/audit/purge").GetProperty("post");

        Assert.True(purge.TryGetProperty("requestBody", out _));
        Assert.True(purge.GetProperty("responses").TryGetProperty("200", out _));
        Assert.True(purge.GetProperty("responses").TryGetProperty("400", out _));
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("AuditPurgeRequest", out _));
    }

    [Fact]
    [Trait("Requirement", "TIR-2")]
    public void Every_endpoint_declares_authorization_or_is_explicitly_anonymous()
    {
        foreach (var endpoint in AllEndpoints())
        {
            var declared = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null || endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Count > 0;
            Assert.True(declared, $"{endpoint.DisplayName} declares no authorization policy");
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-2")]
    public void Api_endpoints_are_versioned_in_the_path()
    {
        var unversioned = AllEndpoints()
            .Select(e => e.RoutePattern.RawText!)
            .Where(p => !p.StartsWith("/api/v1/", StringComparison.Ordinal) && p is not "/" and not "/healthz" and not "/readyz" && !p.StartsWith("/openapi/", StringComparison.Ordinal)
                && !p.StartsWith("/connect/", StringComparison.Ordinal) && !p.StartsWith("/account/", StringComparison.Ordinal) && !p.StartsWith("/.well-known/", StringComparison.Ordinal));

        Assert.Empty(unversioned);
    }

    private IEnumerable<RouteEndpoint> Endpoints() =>
        AllEndpoints().Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true });

    // The OpenAPI document itself, and the OAuth protocol and sign-in pages (described by the OpenID discovery document instead).
    private IEnumerable<RouteEndpoint> AllEndpoints() =>
        _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !e.RoutePattern.RawText!.Contains("{documentName}", StringComparison.Ordinal));
}
