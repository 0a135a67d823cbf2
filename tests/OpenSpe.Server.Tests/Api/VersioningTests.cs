using System.Net;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>An API version is phased out with RFC 9745 Deprecation and RFC 8594 Sunset headers, then 410 Gone (TIR-14).</summary>
public sealed class VersioningTests
{
    [Fact]
    [Trait("Requirement", "TIR-14")]
    public async Task Deprecated_version_announces_deprecation_and_sunset()
    {
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Api:Versions:v1:DeprecatedAt"] = "2026-01-01T00:00:00Z",
            ["Api:Versions:v1:SunsetAt"] = "2099-06-30T00:00:00Z",
            ["Api:Versions:v1:Link"] = "https://openspe.eu/docs/migrate-v2",
        });
        using var client = await server.ClientAsAsync("a", "auditor");

        var response = await client.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("@1767225600", response.Headers.GetValues("Deprecation").Single());
        Assert.Equal("Tue, 30 Jun 2099 00:00:00 GMT", response.Headers.GetValues("Sunset").Single());
        Assert.Contains("rel=\"deprecation\"", response.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-14")]
    public async Task Current_version_carries_no_deprecation()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var client = await server.ClientAsAsync("a", "auditor");

        var response = await client.GetAsync("/api/v1/server/info");

        Assert.False(response.Headers.Contains("Deprecation"));
        Assert.False(response.Headers.Contains("Sunset"));
    }

    [Fact]
    [Trait("Requirement", "TIR-14")]
    public async Task Version_past_its_sunset_answers_410_gone()
    {
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Api:Versions:v1:DeprecatedAt"] = "2020-01-01T00:00:00Z",
            ["Api:Versions:v1:SunsetAt"] = "2021-01-01T00:00:00Z",
        });
        using var client = await server.ClientAsAsync("a", "auditor");

        var response = await client.GetAsync("/api/v1/server/info");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Gone);
    }
}
