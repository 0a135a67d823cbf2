using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>Rate limits per identity and per address answer 429 with Retry-After (TIR-16).</summary>
public sealed class RateLimitTests
{
    [Fact]
    [Trait("Requirement", "TIR-16")]
    [Trait("Clock", "Real")]
    public async Task Burst_from_one_identity_gets_429_with_retry_after_while_others_still_pass()
    {
        // Note: on the real clock, because the platform's token bucket refills on its own timer and takes no
        // TimeProvider; nothing here waits, the burst only has to arrive faster than one token a second.
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerIdentityBurst"] = "5",
            ["RateLimiting:PerIdentityPerSecond"] = "1",
        });
        using var greedy = await server.ClientAsAsync("greedy", "auditor");
        using var other = await server.ClientAsAsync("other", "auditor");

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => greedy.GetAsync("/api/v1/server/info")));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        var otherResponse = await other.GetAsync("/api/v1/server/info");

        Assert.InRange(limited.Count, 6, 12);
        Assert.True(limited[0].Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        await ProblemAssert.IsProblemAsync(limited[0], HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-16")]
    [Trait("Clock", "Real")]
    public async Task Burst_from_one_address_gets_429_even_without_a_token()
    {
        // Note: on the real clock for the same reason as the burst from one identity; nothing waits.
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerAddressBurst"] = "5",
            ["RateLimiting:PerAddressPerSecond"] = "1",
        });

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => server.Client.GetAsync("/api/v1/audit/public-key")));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r => Assert.NotNull(r.Headers.RetryAfter));
    }

    [Fact]
    [Trait("Requirement", "TIR-16")]
    public async Task An_anonymous_flood_writes_one_record_per_source_and_minute_and_no_intent_records()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await SpeTestServer.StartAsync(time: clock, settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerAddressBurst"] = "5",
            ["RateLimiting:PerAddressPerSecond"] = "1",
        });
        var before = await RowsAsync(server);

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 40; i++)
        {
            responses.Add(await server.Client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password" })));
            responses.Add(await server.Client.GetAsync("/api/v1/audit/public-key"));
        }

        var limited = responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        var passedPosts = responses.Where((r, i) => i % 2 == 0 && r.StatusCode != HttpStatusCode.TooManyRequests).Count();
        var during = (await RowsAsync(server)).Skip(before.Count).ToList();
        clock.Advance(TimeSpan.FromMinutes(1));
        await server.Services.GetRequiredService<RateLimitRefusalAudit>().FlushAsync();
        var after = (await RowsAsync(server)).Skip(before.Count).ToList();

        Assert.True(limited >= 40, $"only {limited} of {responses.Count} were limited");
        Assert.Single(during, r => r.HttpStatus == 429);
        Assert.Equal(passedPosts, during.Count(r => r.Action == "request.received"));
        var summary = Assert.Single(after, r => r.Action == "rate-limit.summary");
        Assert.Contains($"\"refused\":\"{limited - 1}\"", summary.DetailsJson, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1", summary.SourceIp);
        Assert.True(after.Count < 2 * (responses.Count - limited) + 3, $"{after.Count} records for {responses.Count} requests");
    }

    private static async Task<List<OpenSpe.Core.Audit.AuditRow>> RowsAsync(SpeTestServer server)
    {
        await using var connection = await server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }

    [Fact]
    [Trait("Requirement", "TIR-16")]
    public async Task Limits_are_validated_at_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerIdentityBurst"] = "0",
        }));

        Assert.Contains("PerIdentityBurst", error.Message, StringComparison.Ordinal);
    }
}
