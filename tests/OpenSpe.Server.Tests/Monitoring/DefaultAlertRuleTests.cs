using System.Globalization;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Federation;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The shipped default rules (EHDSR-9, TIR-13, TIR-27, TIR-34), each driven by its real condition through a running server
/// — failed sign-ins from one address, wrong one-time codes, a flood the rate limiter refuses, an audit store that cannot be
/// written, a federation peer refused at the handshake — firing once the condition is met and reaching a webhook receiver
/// on this machine with a valid HMAC signature. The periodic checks and the per-account sign-in and latency rules are
/// covered the same way in <see cref="AlertCheckTests"/>, <see cref="AlertWebhookTests"/> and <see cref="LatencyAlertTests"/>.
/// </summary>
public sealed class DefaultAlertRuleTests : IAsyncLifetime
{
    private AlertWebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync() => _receiver = await AlertWebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Twenty_failed_sign_ins_from_one_address_across_accounts_fire_the_per_source_rule_signed()
    {
        await using var server = await SpeTestServer.StartAsync(settings: _receiver.Settings(), time: new FakeTimeProvider(DateTimeOffset.UtcNow));
        var identity = new IdentityClient(server);

        // Note: a different account name each time (password spraying), so only the per-source rule can count them.
        for (var i = 0; i < 20; i++)
        {
            (await identity.PasswordGrantAsync("sprayed-" + i.ToString(CultureInfo.InvariantCulture), "wrong-password", null)).Dispose();
        }

        var alert = await _receiver.NextAsync("signin-failures-per-source");

        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(alert.GetProperty("key").GetString()!)), alert.ToString());
        Assert.Equal((20L, 20L), (alert.GetProperty("value").GetInt64(), alert.GetProperty("threshold").GetInt64()));
        await AssertAuditedAsync(server, alert, "signin-failures-per-source");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Three_wrong_one_time_codes_after_the_right_password_fire_the_second_factor_rule_signed()
    {
        await using var server = await SpeTestServer.StartAsync(settings: _receiver.Settings());
        var identity = new IdentityClient(server);
        var account = identity.Account("researcher");
        var code = int.Parse(identity.NextCode(account.TotpSecret), CultureInfo.InvariantCulture);

        for (var i = 0; i < 3; i++)
        {
            var wrong = ((code + 500_000 + i) % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
            using var refused = await identity.PasswordGrantAsync("researcher", account.Password, wrong);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var alert = await _receiver.NextAsync("second-factor-failures");

        Assert.Equal(("researcher", 3L), (alert.GetProperty("key").GetString(), alert.GetProperty("value").GetInt64()));
        await AssertAuditedAsync(server, alert, "second-factor-failures");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    [Trait("Requirement", "TIR-27")]
    public async Task A_flood_of_anonymous_requests_the_rate_limiter_refuses_fires_the_storm_rule_once_the_minutes_summary_is_written()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await SpeTestServer.StartAsync(time: clock, settings: _receiver.Settings(new Dictionary<string, string?>
        {
            ["RateLimiting:PerAddressBurst"] = "1",
            ["RateLimiting:PerAddressPerSecond"] = "1",
        }));

        var refused = 0;
        for (var i = 0; i < 130; i++)
        {
            using var answer = await server.Client.GetAsync(new Uri("/api/v1/server/info", UriKind.Relative), TestContext.Current.CancellationToken);
            refused += answer.StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0;
        }

        // Note: anonymous refusals are audited as the minute's first record and a summary written after the minute ends; the
        // summary's timer runs on the server's clock, which only the test moves.
        clock.Advance(TimeSpan.FromMinutes(1));
        var alert = await _receiver.NextAsync("rate-limit-storm");

        Assert.True(refused >= 100, $"only {refused} requests were refused");
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(alert.GetProperty("key").GetString()!)), alert.ToString());
        Assert.InRange(alert.GetProperty("value").GetInt64(), 100, refused);
        await AssertAuditedAsync(server, alert, "rate-limit-storm");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-27")]
    public async Task An_audit_store_that_cannot_be_written_fires_the_audit_write_failure_rule_signed()
    {
        // Note: the failure is real, as in FailClosedTests: another connection holds the database's write lock, so the audit
        // writer's commit times out and the request that needed its record is refused.
        await using var server = await SpeTestServer.StartAsync(settings: _receiver.Settings(new Dictionary<string, string?> { ["Database:SqliteBusyTimeoutMilliseconds"] = "200" }));
        HttpResponseMessage refused;
        await using (await FailClosedTests.HoldWriteLockAsync(server, TestBackend.Sqlite))
        {
            refused = await server.Client.GetAsync(new Uri("/api/v1/server/info", UriKind.Relative), TestContext.Current.CancellationToken);
        }

        var alert = await _receiver.NextAsync(DefaultAlertRules.AuditWriteFailure);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("*", alert.GetProperty("key").GetString());
        refused.Dispose();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-34")]
    public async Task Ten_handshakes_refused_from_one_address_fire_the_federation_peer_rule_signed()
    {
        await using var node = new FederationNodeFixture();
        await node.StartAsync(_receiver.Settings());

        // Note: node-c holds a certificate of the federation CA but is not on node-a's allow-list.
        for (var i = 0; i < 10; i++)
        {
            var client = node.Client("node-c", out var channel);
            using var _ = channel;
            await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));
        }

        var alert = await _receiver.NextAsync("federation-peer-refused");

        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(alert.GetProperty("key").GetString()!)), alert.ToString());
        Assert.Equal(10L, alert.GetProperty("threshold").GetInt64());
        await AssertAuditedAsync(node.Node.Server, alert, "federation-peer-refused");
    }

    /// <summary>The alert's <c>security.alert</c> audit record names its rule.</summary>
    private static async Task AssertAuditedAsync(SpeTestServer server, JsonElement alert, string rule)
    {
        var sequence = alert.GetProperty("auditSequence").GetInt64();
        var records = await server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "security.alert"));
        Assert.Equal(rule, Assert.Single(records, r => r.Sequence == sequence).ResourceId);
    }
}
