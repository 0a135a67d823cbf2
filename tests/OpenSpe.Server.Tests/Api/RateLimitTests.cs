using System.Net;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>Rate limits per identity and per address answer 429 with Retry-After (TIR-16).</summary>
public sealed class RateLimitTests
{
    [Fact]
    [Trait("Requirement", "TIR-16")]
    public async Task Burst_from_one_identity_gets_429_with_retry_after_while_others_still_pass()
    {
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
    public async Task Burst_from_one_address_gets_429_even_without_a_token()
    {
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
    public async Task Limits_are_validated_at_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerIdentityBurst"] = "0",
        }));

        Assert.Contains("PerIdentityBurst", error.Message, StringComparison.Ordinal);
    }
}
