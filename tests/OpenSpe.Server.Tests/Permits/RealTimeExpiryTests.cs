using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>
/// The one permit test on the real clock (OPR-5): a permit valid for a few seconds expires and the researcher's next
/// request is refused. Every other expiry test moves a fake clock; this one checks that the server as started, with
/// the system clock and its real timers, does it too, so it waits about five seconds of real time on purpose.
/// </summary>
[Trait("Clock", "Real")]
public sealed class RealTimeExpiryTests
{
    [Fact]
    [Trait("Requirement", "OPR-5")]
    public async Task Permit_valid_for_a_few_seconds_expires_on_the_real_clock_and_the_next_request_is_refused()
    {
        await using var server = await SpeTestServer.StartAsync();
        // Both sign in before the clock starts: sign-ins hash passwords, which on a loaded machine took longer than the
        // permit's whole validity (CI saw the first request refused), so only the permit and one request run inside it.
        using var hdab = await server.ClientForAccountAsync("hdab");
        using var researcher = await server.ClientForAccountAsync("researcher");
        var now = DateTimeOffset.UtcNow;
        var validUntil = now.AddSeconds(5);
        var created = await (await hdab.PostAsJsonAsync("/api/v1/permits", PermitFixture.Document(now.AddMinutes(-1), validUntil))).Content.ReadFromJsonAsync<JsonElement>();
        var permitId = created.GetProperty("id").GetString()!;
        var path = $"/api/v1/projects/{created.GetProperty("projectId").GetString()}/datasets";

        var before = await researcher.GetAsync(path);
        // Note: a real wait of up to 5 s, because the real clock is what this test is about.
        var remaining = validUntil - DateTimeOffset.UtcNow;
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining + TimeSpan.FromMilliseconds(100));
        }

        var after = await researcher.GetAsync(path);
        string state;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            state = (await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}")).GetProperty("state").GetString()!;
            if (state == "terminated")
            {
                break;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        Assert.Equal("terminated", state);
    }
}
