using System.Net;
using System.Text;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;
using static OpenSpe.Server.Tests.Monitoring.MetricsEndpointTests;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The counters not fed from the audit log, read at <c>/metrics</c> before and after the action they count: upload bytes
/// (counted where the tus endpoint commits them) and rate-limit refusals (counted where the limiter refuses) (SPER-9,
/// TIR-13, TIR-27).
/// </summary>
[Collection(MetricsSerial.Name)]
public sealed class MetricsAfterActionTests
{
    [Fact]
    [Trait("Requirement", "SPER-9")]
    [Trait("Requirement", "TIR-27")]
    public async Task The_bytes_of_an_upload_appear_in_the_upload_counter_after_it()
    {
        await using var f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Uploads:MaxUploadBytes"] = "10000000" });
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        var (_, projectId) = await f.IssueAsync(document);
        using var holder = await f.Server.ClientForAccountAsync("holder");
        using var operatorClient = await f.Server.ClientForAccountAsync("operator");
        var tus = new TusClient(holder, projectId);
        var csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 5_000).Select(i => $"{i},row-{i}")));
        var ciphertext = TusClient.Encrypt(csv, await tus.ProjectKeyAsync());
        var before = await ScrapeAsync(operatorClient);

        var (_, last) = await tus.UploadAsync(ciphertext, "omop-2026", "cohort.csv", TusClient.Sha256Hex(csv), chunk: 40_000);
        var after = await ScrapeAsync(operatorClient);

        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal(Value(before, "spe_upload_bytes_total", "") + ciphertext.Length, Value(after, "spe_upload_bytes_total", ""));
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Each_request_the_rate_limiter_refuses_appears_in_the_refusal_counter()
    {
        // Note: a small bucket per identity, so one person's burst is refused while the operator's own bucket serves the scrapes.
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerIdentityBurst"] = "5",
            ["RateLimiting:PerIdentityPerSecond"] = "1",
        });
        using var operatorClient = await server.ClientForAccountAsync("operator");
        using var researcher = await server.ClientForAccountAsync("researcher");
        var before = await ScrapeAsync(operatorClient);

        var refused = 0;
        for (var i = 0; i < 30; i++)
        {
            using var answer = await researcher.GetAsync(new Uri("/api/v1/account", UriKind.Relative), TestContext.Current.CancellationToken);
            refused += answer.StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0;
        }

        var after = await ScrapeAsync(operatorClient);

        Assert.True(refused > 0, "the burst was not refused");
        Assert.Equal(Value(before, "spe_rate_limit_refusals_total", "") + refused, Value(after, "spe_rate_limit_refusals_total", ""));
    }
}
