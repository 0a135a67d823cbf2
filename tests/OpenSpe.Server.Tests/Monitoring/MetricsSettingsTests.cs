using System.Net;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>The scraper's address ranges and the switch that turns <c>/metrics</c> off (TIR-13).</summary>
[Collection(MetricsSerial.Name)]
public sealed class MetricsSettingsTests
{
    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task A_scraper_in_an_allowed_range_reads_the_metrics_without_a_token()
    {
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "127.0.0.0/8" });

        var text = await MetricsEndpointTests.ScrapeAsync(server.Client);

        Assert.Contains("spe_audit_append_duration_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task A_range_that_does_not_hold_the_caller_admits_nothing()
    {
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "10.0.0.0/8" });

        using var response = await server.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task A_range_that_is_not_cidr_stops_the_server_at_start_with_its_name()
    {
        var error = await Assert.ThrowsAsync<SpeConfigurationException>(async () =>
        {
            await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "10.0.0.0/33" });
        });

        Assert.Contains("10.0.0.0/33", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task Turned_off_there_is_no_metrics_endpoint_even_for_an_operator()
    {
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Metrics:Enabled"] = "false" });
        using var client = await server.ClientForAccountAsync("operator");

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
