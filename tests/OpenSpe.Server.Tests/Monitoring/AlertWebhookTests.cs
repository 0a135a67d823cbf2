using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// A rule that fires in a running server writes a <c>security.alert</c> audit record and posts it, HMAC-signed, to a
/// webhook receiver on this machine, retrying when the receiver fails (EHDSR-9, TIR-13, TIR-27).
/// </summary>
[Collection(MetricsSerial.Name)]
public sealed class AlertWebhookTests : IAsyncLifetime
{
    private AlertWebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync() => _receiver = await AlertWebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-13")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Five_failed_sign_ins_for_one_account_are_audited_as_an_alert_and_posted_signed()
    {
        await using var server = await StartServerAsync();
        var identity = new IdentityClient(server);

        for (var i = 0; i < 5; i++)
        {
            (await identity.PasswordGrantAsync("researcher", "wrong-password-" + i, null)).Dispose();
        }

        var alert = await _receiver.NextAsync(timeout: TimeSpan.FromSeconds(30));
        Assert.Equal("signin-failures-per-account", alert.GetProperty("rule").GetString());
        Assert.Equal("researcher", alert.GetProperty("key").GetString());
        var sequence = alert.GetProperty("auditSequence").GetInt64();
        var records = await server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "security.alert"));
        var record = Assert.Single(records, r => r.Sequence == sequence);
        Assert.Equal("signin-failures-per-account", record.ResourceId);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task A_receiver_that_fails_gets_the_alert_again_after_the_wait()
    {
        _receiver.FailFirst = 1;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartServerAsync(clock);
        var identity = new IdentityClient(server);

        for (var i = 0; i < 5; i++)
        {
            (await identity.PasswordGrantAsync("holder", "wrong-password-" + i, null)).Dispose();
        }

        // Note: the first post was refused (503); the retry waits one second on the server's clock, which only the test moves.
        while (!_receiver.HasPending)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, TestContext.Current.CancellationToken);
            Assert.True(clock.GetUtcNow() < DateTimeOffset.UtcNow.AddMinutes(5), "the alert never arrived");
        }

        await _receiver.NextAsync();
        Assert.True(_receiver.FailFirst < 0, "the first attempt was refused");
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task An_alert_is_audited_at_once_while_the_webhook_still_retries_an_earlier_one()
    {
        // Note: the receiver refuses every post, so the dispatcher keeps retrying the first alert on the server's clock, which
        // the test never moves; the second alert must reach the audit log all the same, not wait (or be dropped) behind it.
        _receiver.FailFirst = int.MaxValue;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartServerAsync(clock);
        var identity = new IdentityClient(server);
        var audit = server.Services.GetRequiredService<AuditService>();

        for (var i = 0; i < 5; i++)
        {
            (await identity.PasswordGrantAsync("holder", "wrong-password-" + i, null)).Dispose();
        }

        await AlertAuditedAsync(audit, "holder");
        while (_receiver.FailFirst == int.MaxValue)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        for (var i = 0; i < 5; i++)
        {
            (await identity.PasswordGrantAsync("researcher", "wrong-password-" + i, null)).Dispose();
        }

        await AlertAuditedAsync(audit, "researcher");
        Assert.False(_receiver.HasPending);
    }

    /// <summary>Waits (30 s at most, real time) for the <c>security.alert</c> record of a rule that fired for <paramref name="key"/>.</summary>
    private static async Task AlertAuditedAsync(AuditService audit, string key)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!(await audit.QueryAsync(new AuditQuery(Action: "security.alert"))).Any(r => r.ToEntry().Detail("key") == key))
        {
            Assert.True(DateTimeOffset.UtcNow < until, $"no security.alert record for {key}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private Task<SpeTestServer> StartServerAsync(TimeProvider? time = null) => SpeTestServer.StartAsync(time: time, settings: _receiver.Settings());
}
