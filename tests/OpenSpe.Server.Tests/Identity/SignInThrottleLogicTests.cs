using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>The throttle's rules on a fake clock, without a server: doubling, caps, what a success resets, forgetting, and the memory bound.</summary>
public sealed class SignInThrottleLogicTests
{
    private static readonly IPAddress Stranger = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Owner = IPAddress.Parse("198.51.100.20");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Delay_is_none_within_the_allowance_then_doubles_up_to_the_cap()
    {
        var delays = Enumerable.Range(1, 12).Select(f => SignInThrottle.DelayAfter(f, 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).TotalSeconds);

        Assert.Equal([0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60], delays);
        Assert.Equal(TimeSpan.FromMinutes(15), SignInThrottle.DelayAfter(int.MaxValue, 3, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(15)));
    }

    [Fact]
    public void Pair_key_doubles_per_failure_and_stops_at_its_cap()
    {
        var throttle = Throttle();

        var waits = FailUntilCapped(throttle, "ALICE", Stranger, 16);

        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public void Attempts_inside_a_delay_are_held_without_counting()
    {
        var throttle = Throttle();
        Fail(throttle, "ALICE", Stranger, 4);

        var held = Enumerable.Range(0, 50).Select(_ => throttle.Begin("ALICE", Stranger)).ToList();
        _clock.Advance(TimeSpan.FromSeconds(1));
        var next = throttle.Begin("ALICE", Stranger);

        Assert.All(held, a => Assert.Equal(TimeSpan.FromSeconds(1), a.RetryAfter));
        Assert.All(held, a => Assert.Equal(SignInThrottleKey.AccountAndAddress, a.HeldBy));
        Assert.Null(next.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(2), throttle.Begin("ALICE", Stranger).RetryAfter);
    }

    [Fact]
    public void Account_key_from_many_addresses_is_capped_low_so_the_owner_waits_at_most_that_cap()
    {
        var throttle = Throttle();
        var longest = TimeSpan.Zero;
        for (var i = 0; i < 200; i++)
        {
            var attempt = throttle.Begin("ALICE", IPAddress.Parse("10.0." + (i / 250) + "." + (i % 250)));
            if (attempt.RetryAfter is { } wait)
            {
                longest = wait > longest ? wait : longest;
                Assert.Equal(SignInThrottleKey.Account, attempt.HeldBy);
                _clock.Advance(wait);
            }
        }

        // End on a stranger's attempt that counted, so the account is inside a delay when its owner comes.
        while (throttle.Begin("ALICE", IPAddress.Parse("10.9.9.9")).RetryAfter is { } last)
        {
            _clock.Advance(last);
        }

        var owner = throttle.Begin("ALICE", Owner);

        Assert.Equal(TimeSpan.FromSeconds(60), longest);
        Assert.InRange(owner.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Success_resets_the_pair_and_account_keys_and_gives_the_address_its_attempt_back()
    {
        var throttle = Throttle();
        Fail(throttle, "ALICE", Owner, 3);
        Fail(throttle, "BOB", Owner, 3);
        Fail(throttle, "ALICE", Stranger, 3);
        for (var i = 0; i < 20; i++)
        {
            throttle.Succeeded(Admitted(throttle, "CAROL", Owner));
        }

        throttle.Succeeded(Admitted(throttle, "ALICE", Owner));
        var aliceAgain = Enumerable.Range(0, 3).Select(_ => throttle.Begin("ALICE", Owner).RetryAfter).ToList();
        var strangerOnAlice = Enumerable.Range(0, 10).Select(_ => throttle.Begin("ALICE", Stranger)).ToList();

        Assert.All(aliceAgain, Assert.Null);
        Assert.Null(strangerOnAlice[0].RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1), strangerOnAlice[1].RetryAfter);
        Assert.Equal(SignInThrottleKey.AccountAndAddress, strangerOnAlice[1].HeldBy);
    }

    [Fact]
    public void Address_key_catches_spraying_across_names_and_a_success_does_not_reset_it()
    {
        var throttle = Throttle();
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(throttle.Begin("USER" + i, Stranger).RetryAfter);
        }

        throttle.Succeeded(Admitted(throttle, "MALLORY", Stranger));
        var sprayed = throttle.Begin("USER-X", Stranger);
        var held = throttle.Begin("USER-Y", Stranger);

        Assert.Null(sprayed.RetryAfter);
        Assert.Equal(SignInThrottleKey.Address, held.HeldBy);
        Assert.Equal(TimeSpan.FromSeconds(1), held.RetryAfter);
    }

    [Fact]
    public void Existing_and_unknown_names_are_counted_alike()
    {
        var throttle = Throttle();

        var existing = Enumerable.Range(0, 6).Select(_ => throttle.Begin("ALICE", Stranger).RetryAfter).ToList();
        var unknown = Enumerable.Range(0, 6).Select(_ => throttle.Begin("NO-SUCH-NAME", Owner).RetryAfter).ToList();

        Assert.Equal(existing, unknown);
    }

    [Fact]
    public void Failures_are_forgotten_after_the_quiet_period()
    {
        var throttle = Throttle();
        Fail(throttle, "ALICE", Stranger, 3);
        _clock.Advance(TimeSpan.FromDays(1));

        var afterQuiet = Enumerable.Range(0, 4).Select(_ => throttle.Begin("ALICE", Stranger).RetryAfter).ToList();

        Assert.Equal([null, null, null, null], afterQuiet);
    }

    [Fact]
    public void A_known_address_skips_the_account_key_but_not_its_own()
    {
        var throttle = Throttle();
        throttle.Succeeded(Admitted(throttle, "ALICE", Owner));
        for (var i = 0; i < 11; i++)
        {
            throttle.Begin("ALICE", IPAddress.Parse("10.1.0." + i));
        }

        var fromElsewhere = throttle.Begin("ALICE", IPAddress.Parse("10.2.0.1"));
        var fromKnown = Enumerable.Range(0, 5).Select(_ => throttle.Begin("ALICE", Owner)).ToList();

        Assert.Equal(SignInThrottleKey.Account, fromElsewhere.HeldBy);
        Assert.All(fromKnown.Take(4), a => Assert.Null(a.RetryAfter));
        Assert.Equal(SignInThrottleKey.AccountAndAddress, fromKnown[4].HeldBy);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public void Entries_stay_within_the_bound_and_a_flood_of_fresh_names_pushes_out_quiet_entries_not_delays()
    {
        var throttle = Throttle(maxEntries: 1_000);
        Fail(throttle, "ALICE", Owner, 4);
        Fail(throttle, "BOB", Owner, 2);
        for (var i = 0; i < 10_000; i++)
        {
            throttle.Begin("NAME" + i, IPAddress.Parse("10.3." + (i / 250) + "." + (i % 250)));
            Assert.InRange(throttle.Count, 0, 1_000);
        }

        // ALICE's pair key holds a delay and stays; BOB's two failures held none and went with the other quiet entries.
        Assert.Equal(SignInThrottleKey.AccountAndAddress, throttle.Begin("ALICE", Owner).HeldBy);
        Assert.All(Enumerable.Range(0, 3), _ => Assert.Null(throttle.Begin("BOB", Owner).RetryAfter));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public void A_source_inside_its_delay_adds_no_entries_whatever_names_it_invents()
    {
        var throttle = Throttle();
        // The address key's free allowance is 20 failures; the 21st goes ahead and starts its delay.
        for (var i = 0; i < 21; i++)
        {
            Admitted(throttle, "SPRAY" + i, Stranger);
        }

        var before = throttle.Count;
        var held = Enumerable.Range(0, 500).Select(i => throttle.Begin("INVENTED" + i, Stranger)).ToList();

        Assert.All(held, a => Assert.Equal(SignInThrottleKey.Address, a.HeldBy));
        Assert.Equal(before, throttle.Count);
    }

    [Fact]
    public void Ipv6_addresses_share_their_64_and_mapped_ipv4_is_ipv4()
    {
        Assert.Equal(SignInThrottle.AddressKey(IPAddress.Parse("2001:db8:1:2::1")), SignInThrottle.AddressKey(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(SignInThrottle.AddressKey(IPAddress.Parse("2001:db8:1:2::1")), SignInThrottle.AddressKey(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("192.0.2.1", SignInThrottle.AddressKey(IPAddress.Parse("::ffff:192.0.2.1")));
        Assert.Equal("unknown", SignInThrottle.AddressKey(null));
    }

    [Fact]
    public void Options_refuse_an_account_cap_above_five_minutes_and_caps_below_the_first_delay()
    {
        var tooLong = new TokenOptions { MaxDelayPerAccount = TimeSpan.FromMinutes(6) };
        var belowFirst = new TokenOptions { FirstSignInDelay = TimeSpan.FromSeconds(30), MaxDelayPerAccountAndAddress = TimeSpan.FromSeconds(10) };

        Assert.Contains(Validate(tooLong), r => r.MemberNames.Contains(nameof(TokenOptions.MaxDelayPerAccount)));
        Assert.Contains(Validate(belowFirst), r => r.MemberNames.Contains(nameof(TokenOptions.MaxDelayPerAccountAndAddress)));
        Assert.Empty(Validate(new TokenOptions()));
    }

    [Fact]
    public void Server_refuses_to_start_with_an_account_cap_above_five_minutes_in_one_line()
    {
        using var directory = new Infrastructure.TempDirectory();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:Dev"] = "true",
            ["Server:DataDirectory"] = directory.File("data"),
            ["Server:Urls"] = "https://127.0.0.1:0",
            ["Tokens:MaxDelayPerAccount"] = "00:10:00",
        }).Build();

        var error = Assert.Throws<SpeConfigurationException>(() => SpeHost.Build(configuration));

        Assert.StartsWith("Tokens:", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDelayPerAccount", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static List<System.ComponentModel.DataAnnotations.ValidationResult> Validate(TokenOptions options)
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true);
        return results;
    }

    private SignInThrottle Throttle(int maxEntries = 100_000) => new(_clock, Options.Create(new TokenOptions { SignInThrottleMaxEntries = maxEntries }));

    private static SignInAttempt Admitted(SignInThrottle throttle, string account, IPAddress address)
    {
        var attempt = throttle.Begin(account, address);
        Assert.Null(attempt.RetryAfter);
        return attempt;
    }

    private static void Fail(SignInThrottle throttle, string account, IPAddress address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Admitted(throttle, account, address);
        }
    }

    /// <summary>Fails, waits out each delay, and returns the delays seen, until <paramref name="count"/> failures past the allowance.</summary>
    private List<TimeSpan> FailUntilCapped(SignInThrottle throttle, string account, IPAddress address, int count)
    {
        var waits = new List<TimeSpan>();
        var failures = 0;
        while (failures < count)
        {
            var attempt = throttle.Begin(account, address);
            if (attempt.RetryAfter is { } wait)
            {
                waits.Add(wait);
                _clock.Advance(wait);
            }
            else
            {
                failures++;
            }
        }

        return waits;
    }
}
