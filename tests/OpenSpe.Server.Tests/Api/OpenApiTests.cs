using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>
/// The OpenAPI document covers every endpoint, with schemas and the bearer scheme (TIR-6), every status each can answer as a
/// problem, its path parameters and the OAuth endpoints; and every endpoint declares its authorization (deny by default).
/// </summary>
public sealed partial class OpenApiTests : IAsyncLifetime
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
        foreach (var endpoint in Endpoints().Concat(OAuthEndpoints()))
        {
            var path = PathOf(endpoint);
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
    public async Task Each_operation_documents_exactly_the_error_statuses_its_endpoint_declares()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");

        var gaps = new List<string>();
        foreach (var endpoint in Endpoints())
        {
            var declared = endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>().Select(m => m.StatusCode).Where(s => s >= 400).ToHashSet();
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)
            {
                var documented = ErrorStatuses(paths.GetProperty(PathOf(endpoint)).GetProperty(method.ToLowerInvariant())).ToHashSet();
                gaps.AddRange(declared.Except(documented).Select(s => $"{method} {PathOf(endpoint)}: {s} declared but not documented"));
                gaps.AddRange(documented.Except(declared).Select(s => $"{method} {PathOf(endpoint)}: {s} documented but not declared"));
            }
        }

        Assert.Empty(gaps);
    }

    [Fact]
    [Trait("Requirement", "TIR-6")]
    public async Task Each_operation_declares_its_path_parameters()
    {
        var gaps = Operations(await DocumentAsync())
            .SelectMany(o => RouteParameter().Matches(o.Path).Select(m => m.Groups[1].Value)
                .Where(name => !o.Operation.TryGetProperty("parameters", out var parameters)
                    || !parameters.EnumerateArray().Any(p => p.GetProperty("in").GetString() == "path" && p.GetProperty("name").GetString() == name && p.GetProperty("required").GetBoolean()))
                .Select(name => $"{o.Method} {o.Path}: {{{name}}} is not a required path parameter"))
            .ToList();

        Assert.Empty(gaps);
    }

    [Fact]
    [Trait("Requirement", "TIR-6")]
    [Trait("Requirement", "TIR-10")]
    public async Task Each_error_response_is_a_problem_with_its_schema()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");

        var gaps = new List<string>();
        foreach (var (path, method, operation) in Operations(document))
        {
            foreach (var status in ErrorStatuses(operation))
            {
                var response = operation.GetProperty("responses").GetProperty(status.ToString(CultureInfo.InvariantCulture));
                var where = $"{method} {path} {status}";
                // Note: OAuth protocol errors are OAuth error objects (RFC 6749), so /connect/* documents them with their own schema.
                if (path.StartsWith("/connect/", StringComparison.Ordinal) && !ProblemResponses.Common.Contains(status))
                {
                    if (!response.TryGetProperty("content", out var content) || !content.EnumerateObject().Any(c => c.Value.TryGetProperty("schema", out _)))
                    {
                        gaps.Add($"{where}: no content schema");
                    }

                    continue;
                }

                if (!response.TryGetProperty("content", out var problem) || !problem.TryGetProperty(ProblemResponses.ContentType, out var media)
                    || !media.TryGetProperty("schema", out var schema) || !schema.TryGetProperty("$ref", out var reference))
                {
                    gaps.Add($"{where}: no {ProblemResponses.ContentType} schema");
                    continue;
                }

                var name = reference.GetString()!.Split('/')[^1];
                if (name is not ("ProblemDetails" or "HttpValidationProblemDetails") || !schemas.TryGetProperty(name, out _))
                {
                    gaps.Add($"{where}: schema {reference.GetString()} is not a problem");
                }
            }
        }

        Assert.Empty(gaps);
    }

    [Fact]
    [Trait("Requirement", "TIR-6")]
    public async Task Each_operation_declares_the_statuses_every_request_and_its_scope_can_get()
    {
        var gaps = new List<string>();
        foreach (var (path, method, operation) in Operations(await DocumentAsync()))
        {
            var statuses = ErrorStatuses(operation).ToHashSet();
            var required = new List<int>(ProblemResponses.Common);
            if (operation.TryGetProperty("security", out _))
            {
                required.AddRange(ProblemResponses.SignedIn);
            }

            // Note: every route with a {projectId} passes the access chain, which hides (404) and halts (423) projects.
            if (path.Contains("{projectId}", StringComparison.Ordinal))
            {
                required.AddRange([.. ProblemResponses.SignedIn, .. ProblemResponses.Project]);
            }

            if (operation.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("application/json", out _))
            {
                required.AddRange(ProblemResponses.JsonBody);
            }

            gaps.AddRange(required.Distinct().Where(s => !statuses.Contains(s)).Select(s => $"{method} {path}: {s} is not declared"));
        }

        Assert.Empty(gaps);
    }

    [Fact]
    [Trait("Requirement", "TIR-6")]
    public async Task OAuth_endpoints_are_described_with_their_form_fields_and_answers()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");

        foreach (var (path, fields) in new[]
        {
            ("/connect/token", new[] { "grant_type", "client_id", "username", "password", "otp", "refresh_token", "device_code", "code" }),
            ("/connect/device", ["client_id"]),
            ("/connect/revoke", ["token", "client_id"]),
            ("/connect/introspect", ["token", "client_id", "client_secret"]),
        })
        {
            var operation = paths.GetProperty(path).GetProperty("post");
            var form = operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/x-www-form-urlencoded").GetProperty("schema").GetProperty("properties");
            Assert.All(fields, f => Assert.True(form.TryGetProperty(f, out _), $"{path} does not describe {f}"));
            Assert.True(operation.GetProperty("responses").TryGetProperty("200", out _), $"{path} has no 200");
            Assert.True(operation.GetProperty("responses").TryGetProperty("400", out _), $"{path} has no 400");
        }

        Assert.True(paths.GetProperty("/connect/authorize").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/connect/authorize").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/connect/verify").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/connect/verify").TryGetProperty("post", out _));
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
    [Trait("Requirement", "TIR-6")]
    public async Task No_property_the_server_leaves_out_when_null_is_marked_required()
    {
        // Note: answers leave out null members (JsonIgnoreCondition.WhenWritingNull), so a nullable member marked required
        // would make a valid answer fail a client's schema check (e.g. AlertPage.nextBefore on the last page).
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");
        var wrong = new List<string>();
        foreach (var schema in schemas.EnumerateObject())
        {
            if (!schema.Value.TryGetProperty("required", out var required) || !schema.Value.TryGetProperty("properties", out var properties))
            {
                continue;
            }

            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                if (properties.TryGetProperty(name, out var property) && IsNullable(property))
                {
                    wrong.Add($"{schema.Name}.{name}");
                }
            }
        }

        Assert.Empty(wrong);
        Assert.True(schemas.TryGetProperty("AlertPage", out var page) && page.GetProperty("properties").TryGetProperty("nextBefore", out _));
    }

    private static bool IsNullable(JsonElement property) =>
        (property.TryGetProperty("type", out var type) && (type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Any(t => t.GetString() == "null") : type.GetString() == "null"))
        || (property.TryGetProperty("oneOf", out var oneOf) && oneOf.EnumerateArray().Any(IsNullable))
        || (property.TryGetProperty("anyOf", out var anyOf) && anyOf.EnumerateArray().Any(IsNullable));

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
            .Where(p => !p.StartsWith("/api/v1/", StringComparison.Ordinal) && p is not "/" and not "/healthz" and not "/readyz" and not "/metrics" && !p.StartsWith("/openapi/", StringComparison.Ordinal)
                && !p.StartsWith("/connect/", StringComparison.Ordinal) && !p.StartsWith("/account/", StringComparison.Ordinal) && !p.StartsWith("/.well-known/", StringComparison.Ordinal)
                && !p.StartsWith("/desktop/", StringComparison.Ordinal) && !p.StartsWith("/terminal/", StringComparison.Ordinal)
                && !p.StartsWith("/upload/", StringComparison.Ordinal) && !p.StartsWith("/portal/", StringComparison.Ordinal));

        Assert.Empty(unversioned);
    }

    private async Task<JsonElement> DocumentAsync() => JsonDocument.Parse(await _server.Client.GetStringAsync("/openapi/v1.json")).RootElement.Clone();

    private static string PathOf(RouteEndpoint endpoint) => "/" + endpoint.RoutePattern.RawText!.Trim('/');

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(o => o.Name is "get" or "put" or "post" or "delete" or "options" or "head" or "patch")
            .Select(o => (path.Name, o.Name.ToUpperInvariant(), o.Value)));

    private static IEnumerable<int> ErrorStatuses(JsonElement operation) =>
        operation.GetProperty("responses").EnumerateObject().Select(r => int.Parse(r.Name, CultureInfo.InvariantCulture)).Where(s => s >= 400);

    private IEnumerable<RouteEndpoint> Endpoints() =>
        AllEndpoints().Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true });

    // The routed OAuth endpoints: left out of the generated description (their fields are form fields the handlers read
    // themselves) and described by OAuthOpenApi instead.
    private IEnumerable<RouteEndpoint> OAuthEndpoints() =>
        AllEndpoints().Where(e => e.RoutePattern.RawText!.StartsWith("/connect/", StringComparison.Ordinal));

    // The OpenAPI document itself. The sign-in pages and the portal's pages (Razor Pages) are HTML pages, not API operations.
    private IEnumerable<RouteEndpoint> AllEndpoints() =>
        _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !e.RoutePattern.RawText!.Contains("{documentName}", StringComparison.Ordinal))
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.PageActionDescriptor>() is null);

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)\}")]
    private static partial Regex RouteParameter();
}
