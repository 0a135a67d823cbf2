using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Identity;

/// <summary>Which throttle key held an attempt back (an audit detail, never shown to the caller).</summary>
internal enum SignInThrottleKey
{
    /// <summary>No key: the attempt went ahead.</summary>
    None,

    /// <summary>This account name from this source address.</summary>
    AccountAndAddress,

    /// <summary>This account name from any address.</summary>
    Account,

    /// <summary>This source address, for any account name.</summary>
    Address,
}

/// <summary>
/// One sign-in attempt as the throttle saw it: either held back (<see cref="RetryAfter"/> is set)
/// or let through and already counted as a failure until <see cref="SignInThrottle.Succeeded"/> says otherwise.
/// </summary>
internal sealed class SignInAttempt
{
    internal SignInAttempt(string account, string address, TimeSpan? retryAfter, SignInThrottleKey heldBy)
    {
        Account = account;
        Address = address;
        RetryAfter = retryAfter;
        HeldBy = heldBy;
    }

    /// <summary>How long to wait before the next attempt can be checked; null when this one went ahead.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The key that held the attempt back.</summary>
    public SignInThrottleKey HeldBy { get; }

    internal string Account { get; }

    internal string Address { get; }

    /// <summary>The address key's "not before" before this attempt counted, to give back on success.</summary>
    internal DateTimeOffset AddressNotBeforeBefore { get; set; }

    /// <summary>The address key's "not before" this attempt set.</summary>
    internal DateTimeOffset AddressNotBeforeSet { get; set; }

    /// <summary>True when the account key was left out because this address signed in to the account before.</summary>
    internal bool KnownAddress { get; set; }
}

/// <summary>
/// Slows password and code guessing with growing delays instead of locking accounts, so that a
/// stranger can slow an account down but never lock its owner out (issue #11 item 6, EHDSR-5).
/// In memory and bounded: keys are (account name, source address), account name alone and source
/// address alone; after a free allowance of failures each further failure doubles that key's
/// delay up to its cap. An attempt inside any delay is refused before the password is looked at.
/// </summary>
/// <remarks>
/// Every attempt that goes ahead counts as a failure at once (under the lock) and a success gives
/// it back, so parallel attempts cannot all slip through the free allowance together. Names are
/// counted whether or not an account has them, so the throttle's answers say nothing about which
/// accounts exist. Per server instance: behind a load balancer each instance throttles on its own.
/// </remarks>
internal sealed class SignInThrottle
{
    private const int MaxNameLength = 128;

    private readonly Lock _lock = new();
    private readonly Dictionary<Key, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _byLastUse = new();
    private readonly TimeProvider _time;
    private readonly TokenOptions _options;

    /// <summary>Creates the throttle on the server's clock.</summary>
    public SignInThrottle(TimeProvider time, IOptions<TokenOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _options = options.Value;
    }

    /// <summary>Entries held now (at most <see cref="TokenOptions.SignInThrottleMaxEntries"/>).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The key of a source address: IPv4 as is, IPv6 by its /64 (one subscriber's network), unknown as one bucket.</summary>
    public static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        // Note: an IPv6 subscriber usually holds a whole /64, so one address per attempt would dodge the address key.
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>Checks an attempt by <paramref name="account"/> (the normalized name, existing or not) from <paramref name="address"/>, and counts it.</summary>
    public SignInAttempt Begin(string account, IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(account);
        var name = account.Length > MaxNameLength ? account[..MaxNameLength] : account;
        var source = AddressKey(address);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var pairKey = new Key(SignInThrottleKey.AccountAndAddress, name, source);
            var accountKey = new Key(SignInThrottleKey.Account, name, "");
            var addressKey = new Key(SignInThrottleKey.Address, "", source);
            var pair = Touch(pairKey, now, create: false);
            var known = pair is not null && pair.TrustedUntil > now;
            var byAccount = known ? null : Touch(accountKey, now, create: false);
            var byAddress = Touch(addressKey, now, create: false);

            // Note: held back before the password is looked at, so a guess inside a delay proves nothing. A held-back attempt
            // adds no entry, so a source inside its delay cannot fill the table with invented names to push others' delays out.
            var (wait, heldBy) = Longest(now, (pair, SignInThrottleKey.AccountAndAddress), (byAccount, SignInThrottleKey.Account), (byAddress, SignInThrottleKey.Address));
            if (wait > TimeSpan.Zero)
            {
                return new SignInAttempt(name, source, wait, heldBy);
            }

            pair ??= Touch(pairKey, now, create: true)!;
            byAccount ??= known ? null : Touch(accountKey, now, create: true);
            byAddress ??= Touch(addressKey, now, create: true)!;

            var attempt = new SignInAttempt(name, source, null, SignInThrottleKey.None)
            {
                KnownAddress = known,
                AddressNotBeforeBefore = byAddress.NotBefore,
            };
            Fail(pair, now, _options.FreeFailuresPerAccountAndAddress, _options.MaxDelayPerAccountAndAddress);
            if (byAccount is not null)
            {
                Fail(byAccount, now, _options.FreeFailuresPerAccount, _options.MaxDelayPerAccount);
            }

            Fail(byAddress, now, _options.FreeFailuresPerAddress, _options.MaxDelayPerAddress);
            attempt.AddressNotBeforeSet = byAddress.NotBefore;
            Evict(now);
            return attempt;
        }
    }

    /// <summary>
    /// The attempt signed in: its account-and-address and account keys start again, the address
    /// will be trusted for the account, and the address key gets this attempt back.
    /// </summary>
    public void Succeeded(SignInAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.RetryAfter is not null)
        {
            throw new InvalidOperationException("An attempt that was held back cannot succeed.");
        }

        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var pair = Touch(new Key(SignInThrottleKey.AccountAndAddress, attempt.Account, attempt.Address), now, create: true)!;
            pair.Failures = 0;
            pair.NotBefore = DateTimeOffset.MinValue;
            pair.TrustedUntil = now + _options.KnownAddressTrustedFor;
            if (!attempt.KnownAddress)
            {
                Remove(new Key(SignInThrottleKey.Account, attempt.Account, ""));
            }

            if (_entries.TryGetValue(new Key(SignInThrottleKey.Address, "", attempt.Address), out var node))
            {
                var byAddress = node.Value;
                byAddress.Failures = Math.Max(0, byAddress.Failures - 1);
                if (byAddress.NotBefore == attempt.AddressNotBeforeSet)
                {
                    // Nobody failed from this address meanwhile: the delay this attempt set is taken back.
                    byAddress.NotBefore = attempt.AddressNotBeforeBefore;
                }
            }

            Evict(now);
        }
    }

    /// <summary>The delay after <paramref name="failures"/> failures: none within the free allowance, then doubling from the first delay up to <paramref name="cap"/>.</summary>
    public static TimeSpan DelayAfter(int failures, int free, TimeSpan first, TimeSpan cap)
    {
        var beyond = failures - free;
        if (beyond <= 0)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(beyond - 1, 40);
        var ticks = first.Ticks * Math.Pow(2, doublings);
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }

    private void Fail(Entry entry, DateTimeOffset now, int free, TimeSpan cap)
    {
        entry.Failures = entry.Failures == int.MaxValue ? int.MaxValue : entry.Failures + 1;
        entry.LastFailure = now;
        var delay = DelayAfter(entry.Failures, free, _options.FirstSignInDelay, cap);
        if (delay > TimeSpan.Zero)
        {
            entry.NotBefore = now + delay;
        }
    }

    private static (TimeSpan Wait, SignInThrottleKey HeldBy) Longest(DateTimeOffset now, params ReadOnlySpan<(Entry? Entry, SignInThrottleKey Kind)> keys)
    {
        var longest = (TimeSpan.Zero, SignInThrottleKey.None);
        foreach (var (entry, kind) in keys)
        {
            if (entry is not null && entry.NotBefore - now > longest.Item1)
            {
                longest = (entry.NotBefore - now, kind);
            }
        }

        return longest;
    }

    private Entry? Touch(Key key, DateTimeOffset now, bool create)
    {
        if (_entries.TryGetValue(key, out var node))
        {
            _byLastUse.Remove(node);
            _byLastUse.AddLast(node);
        }
        else if (!create)
        {
            return null;
        }
        else
        {
            node = _byLastUse.AddLast(new Entry(key));
            _entries[key] = node;
        }

        var entry = node.Value;
        if (entry.Failures > 0 && entry.NotBefore <= now && now - entry.LastFailure >= _options.SignInFailuresForgottenAfter)
        {
            // Old failures are forgotten, so years of typos never add up to a delay.
            entry.Failures = 0;
        }

        return entry;
    }

    private void Remove(Key key)
    {
        if (_entries.Remove(key, out var node))
        {
            _byLastUse.Remove(node);
        }
    }

    // Note: bounded, so that an attacker inventing names and addresses cannot grow the server's memory. The quiet entry used
    // longest ago goes first; an entry holding a delay or a trusted address is passed over (moved to the back), so a flood of
    // fresh names and addresses pushes out only other quiet entries, never the delay it is trying to escape. Only when every
    // entry in a run of 64 holds something does the oldest go regardless (a bound on the work under the lock).
    private void Evict(DateTimeOffset now)
    {
        const int MaxPassedOver = 64;
        var passedOver = 0;
        while (_entries.Count > _options.SignInThrottleMaxEntries && _byLastUse.First is { } oldest)
        {
            var entry = oldest.Value;
            if ((entry.NotBefore > now || entry.TrustedUntil > now) && passedOver < MaxPassedOver)
            {
                _byLastUse.RemoveFirst();
                _byLastUse.AddLast(oldest);
                passedOver++;
                continue;
            }

            _entries.Remove(entry.Key);
            _byLastUse.RemoveFirst();
        }
    }

    private readonly record struct Key(SignInThrottleKey Kind, string Account, string Address);

    private sealed class Entry(Key key)
    {
        public Key Key { get; } = key;

        public int Failures { get; set; }

        public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset LastFailure { get; set; }

        public DateTimeOffset TrustedUntil { get; set; } = DateTimeOffset.MinValue;
    }
}
