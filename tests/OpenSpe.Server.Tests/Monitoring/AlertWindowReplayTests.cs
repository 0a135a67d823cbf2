using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The alert rules' counts go on across a restart (EHDSR-9, TIR-13): at start the server counts again the audit records
/// still within each rule's window, so failed sign-ins before a restart and after it add up, and records older than the
/// window do not.
/// </summary>
public sealed class AlertWindowReplayTests : IAsyncLifetime
{
    private AlertWebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync() => _receiver = await AlertWebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Failed_sign_ins_before_a_restart_and_after_it_add_up_to_the_threshold()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = await SpeTestServer.StartAsync(settings: _receiver.Settings(), time: clock);
        var directory = first.DataDirectory;
        await FailPasswordsAsync(first, 3);
        await first.StopKeepingDataAsync();
        clock.Advance(TimeSpan.FromMinutes(5));

        var restarted = await SpeTestServer.StartAsync(settings: _receiver.Settings(), time: clock, reuseDirectory: directory);
        try
        {
            await FailPasswordsAsync(restarted, 2);
            var alert = await _receiver.NextAsync("signin-failures-per-account");

            Assert.Equal(("researcher", 5L), (alert.GetProperty("key").GetString(), alert.GetProperty("value").GetInt64()));
        }
        finally
        {
            // Note: the first server owns the data directory and deletes it, so it goes last.
            await restarted.DisposeAsync();
            await first.DisposeAsync();
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Failed_sign_ins_older_than_the_window_are_not_counted_again_at_start()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = await SpeTestServer.StartAsync(settings: _receiver.Settings(), time: clock);
        var directory = first.DataDirectory;
        await FailPasswordsAsync(first, 3);
        await first.StopKeepingDataAsync();
        clock.Advance(TimeSpan.FromMinutes(16));

        var restarted = await SpeTestServer.StartAsync(settings: _receiver.Settings(), time: clock, reuseDirectory: directory);
        try
        {
            await FailPasswordsAsync(restarted, 4);
            // Note: three wrong one-time codes for another account fire their own rule after the four failures above, and the
            // dispatcher posts in order, so a per-account alert for those four would have reached the receiver first.
            var identity = new IdentityClient(restarted);
            var holder = identity.Account("holder");
            var code = int.Parse(identity.NextCode(holder.TotpSecret), CultureInfo.InvariantCulture);
            for (var i = 0; i < 3; i++)
            {
                var wrong = ((code + 500_000 + i) % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
                (await identity.PasswordGrantAsync("holder", holder.Password, wrong)).Dispose();
            }

            var seen = new List<string>();
            while (seen.LastOrDefault() != "second-factor-failures")
            {
                seen.Add((await _receiver.NextAsync()).GetProperty("rule").GetString()!);
            }

            Assert.DoesNotContain("signin-failures-per-account", seen);
        }
        finally
        {
            // Note: the first server owns the data directory and deletes it, so it goes last.
            await restarted.DisposeAsync();
            await first.DisposeAsync();
        }
    }

    private static async Task FailPasswordsAsync(SpeTestServer server, int count)
    {
        var identity = new IdentityClient(server);
        for (var i = 0; i < count; i++)
        {
            (await identity.PasswordGrantAsync("researcher", "not-the-password", null)).Dispose();
        }
    }
}
