using System.Net;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// Every endpoint, called as anonymous, as each role, with a token lacking MFA and as an application,
/// answers as its declared policy says, all with real sign-ins. The matrix is generated from the
/// endpoint metadata, so a new endpoint is covered without editing this test; it is the second check
/// beside the hand-written expectations of <see cref="AccessTableTests"/> (TIR-7, SDR-1, SDR-2, OPR-1).
/// </summary>
public sealed class AuthorizationMatrixTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["RateLimiting:PerAddressBurst"] = "100000",
        ["RateLimiting:PerAddressPerSecond"] = "100000",
        ["RateLimiting:PerIdentityBurst"] = "100000",
        ["RateLimiting:PerIdentityPerSecond"] = "100000",
    });

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string> Callers => new(["anonymous", "no-mfa", "client", .. SpeRoles.All]);

    [Theory]
    [MemberData(nameof(Callers))]
    [Trait("Requirement", "TIR-7")]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-1")]
    public async Task Every_endpoint_answers_as_its_policy_says(string caller)
    {
        using var client = await ClientForAsync(caller);
        var failures = new List<string>();
        foreach (var (method, path, endpoint) in Endpoints())
        {
            var expected = Expected(endpoint, caller);
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PUT")
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request);
            var status = response.StatusCode;
            var ok = expected switch
            {
                Access.Allowed => status is not HttpStatusCode.Unauthorized and not HttpStatusCode.Forbidden,
                Access.Unauthenticated => status == HttpStatusCode.Unauthorized,
                _ => status == HttpStatusCode.Forbidden,
            };
            if (!ok)
            {
                failures.Add($"{method} {path} as {caller}: expected {expected}, got {(int)status}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    [Trait("Requirement", "OPR-1")]
    public void Every_project_scoped_endpoint_declares_its_action_and_none_opens_data_to_admins_or_operators()
    {
        var projectScoped = Endpoints().Where(e => e.Path.Contains("/projects/matrix-x", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(projectScoped);
        foreach (var (method, path, endpoint) in projectScoped)
        {
            var action = endpoint.Metadata.GetMetadata<OpenSpe.Server.Permits.ProjectActionAttribute>();
            Assert.True(action is not null, $"{method} {path} declares no project action, so the access gate refuses it");
            Assert.DoesNotContain(SpeRoles.Admin, action.MemberRoles);
            Assert.DoesNotContain(SpeRoles.Operator, action.MemberRoles);
        }
    }

    private enum Access
    {
        Allowed,
        Unauthenticated,
        Forbidden,
    }

    private static Access Expected(Endpoint endpoint, string caller)
    {
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return Access.Allowed;
        }

        if (caller == "anonymous")
        {
            return Access.Unauthenticated;
        }

        var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy ?? SpePolicies.Human).DefaultIfEmpty(SpePolicies.Human).ToList();
        return policies.All(p => Satisfies(p, caller)) ? Access.Allowed : Access.Forbidden;
    }

    private static bool Satisfies(string policy, string caller) => policy switch
    {
        SpePolicies.SignedIn => true,
        SpePolicies.Enrolment => caller != "client",
        SpePolicies.HumanOrClient => caller != "no-mfa",
        SpePolicies.Human => caller is not "no-mfa" and not "client",
        // The desktop WebSocket's policy: a bearer token or a ticket, either way a person with a second factor.
        OpenSpe.Server.Desktop.DesktopEndpoints.Policy => caller is not "no-mfa" and not "client",
        // The terminal WebSocket's policy: the same, with a terminal ticket.
        OpenSpe.Server.Terminal.TerminalEndpoints.Policy => caller is not "no-mfa" and not "client",
        _ when policy.StartsWith("role:", StringComparison.Ordinal) => policy["role:".Length..] == caller,
        _ when policy.StartsWith("roles:", StringComparison.Ordinal) => policy["roles:".Length..].Split(',').Contains(caller),
        _ => throw new InvalidOperationException($"The matrix does not know policy '{policy}': add it here."),
    };

    private async Task<HttpClient> ClientForAsync(string caller) => caller switch
    {
        "anonymous" => PinnedHttp.Create(_server.BaseAddress, _server.Info.CertificateFingerprint),
        // A person who proved only a password (a real sign-in before enrolment), holding every role, so only the missing factor can explain a refusal.
        "no-mfa" => _server.ClientWithToken(await _server.PasswordOnlyTokenAsync("matrix-nomfa", [.. SpeRoles.All])),
        "client" => _server.ClientWithToken(await _server.ApplicationTokenAsync("matrix-app")),
        _ => await _server.ClientAsAsync("matrix-" + caller, caller),
    };

    private IEnumerable<(string Method, string Path, Endpoint Endpoint)> Endpoints()
    {
        foreach (var endpoint in _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var raw = endpoint.RoutePattern.RawText!;
            if (!raw.StartsWith("/api/", StringComparison.Ordinal))
            {
                continue;
            }

            var path = string.Join('/', raw.Split('/').Select(segment => segment.StartsWith('{') ? "matrix-x" : segment));
            // CONNECT is HTTP/2's form of the desktop's and the terminal's WebSocket upgrade (RFC 8441): the same endpoint and handler as its GET.
            foreach (var method in (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Where(m => m != "CONNECT"))
            {
                yield return (method, path, endpoint);
            }
        }
    }
}
