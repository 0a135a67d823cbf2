using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Desktop;

/// <summary>Why a ticket did not open the desktop (the audit record's reason class).</summary>
internal enum DesktopTicketRefusal
{
    /// <summary>It was redeemed.</summary>
    None,

    /// <summary>No ticket with that value was issued here (or it expired long ago and was swept).</summary>
    Unknown,

    /// <summary>Its lifetime is over.</summary>
    Expired,

    /// <summary>It was used before.</summary>
    Reused,

    /// <summary>It was issued for another project (it is spent all the same).</summary>
    OtherProject,

    /// <summary>It was issued for another kind of session (a desktop ticket presented to the terminal, or the reverse; spent all the same).</summary>
    OtherKind,

    /// <summary>The sign-in it was issued from has ended since (signed out, disabled, password or factor changed; spent all the same).</summary>
    SessionEnded,
}

/// <summary>Why no ticket was issued.</summary>
internal enum DesktopTicketIssueRefusal
{
    /// <summary>It was issued.</summary>
    None,

    /// <summary>The account holds <see cref="DesktopTickets.MaxOutstandingPerAccount"/> tickets it has not used and that have not expired.</summary>
    AccountLimit,

    /// <summary>This instance holds as many tickets as it keeps in memory.</summary>
    Full,
}

/// <summary>
/// Session tickets of the desktop and the terminal: short-lived (<see cref="DesktopOptions.TicketLifetime"/>, at most 60 s),
/// single-use, 256 random bits, bound to the account, the project and the kind of session (<c>desktop</c>, <c>terminal</c>), kept
/// only as their SHA-256. A browser cannot set headers on a WebSocket upgrade, so the page
/// carries a ticket in the URL instead of the bearer token (TIR-22: never a long-lived token in a URL).
/// </summary>
/// <remarks>
/// Note: held in this instance's memory, so a ticket works only on the instance that issued it; behind a load balancer the
/// ticket request and the upgrade must reach the same instance (sticky sessions), or the store must move to the database.
/// </remarks>
internal sealed class DesktopTickets(TimeProvider time, IOptions<DesktopOptions> options)
{
    /// <summary>Unused, unexpired tickets one account may hold; a page needs one at a time, a few tabs a few.</summary>
    public const int MaxOutstandingPerAccount = 8;

    private const int MaxOutstanding = 10_000;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _issuing = new();

    /// <summary>
    /// Issues a ticket for <paramref name="user"/> (the claims the session needs are copied), <paramref name="projectId"/> and a session of
    /// <paramref name="kind"/>, unless the account already holds <see cref="MaxOutstandingPerAccount"/> unused ones or the store is full.
    /// </summary>
    /// <remarks>
    /// Note: the cap is per account so that one member asking for tickets in a loop (the rate limiter lets 50 a second through) fills
    /// only their own share, not the store every other researcher's desktop needs.
    /// </remarks>
    public DesktopTicketIssueRefusal TryIssue(ClaimsPrincipal user, string projectId, string kind, out string ticket, out DateTimeOffset expiresAt)
    {
        var subject = user.FindFirst("sub")?.Value ?? throw new InvalidOperationException("A ticket is issued to a signed-in account.");
        ticket = "";
        var now = time.GetUtcNow();
        expiresAt = now + options.Value.TicketLifetime;
        lock (_issuing)
        {
            Sweep(now);
            if (_entries.Values.Count(e => e.Subject == subject && Volatile.Read(ref e.Used) == 0 && e.ExpiresAt > now) >= MaxOutstandingPerAccount)
            {
                return DesktopTicketIssueRefusal.AccountLimit;
            }

            if (_entries.Count >= MaxOutstanding)
            {
                return DesktopTicketIssueRefusal.Full;
            }

            ticket = Base64Url(RandomNumberGenerator.GetBytes(32));
            string[] kept = ["sub", "preferred_username", "role", "amr", Identity.SpeClaims.Stamp];
            var claims = user.Claims.Where(c => kept.Contains(c.Type)).Select(c => new Claim(c.Type, c.Value)).ToList();
            _entries[Hash(ticket)] = new Entry(subject, projectId, kind, claims, expiresAt);
            return DesktopTicketIssueRefusal.None;
        }
    }

    /// <summary>Redeems a ticket for a session of <paramref name="kind"/> in <paramref name="projectId"/>: the claims it was issued with, or why not.</summary>
    public DesktopTicketRefusal Redeem(string ticket, string projectId, string kind, out IReadOnlyList<Claim> claims)
    {
        claims = [];
        if (!_entries.TryGetValue(Hash(ticket), out var entry))
        {
            return DesktopTicketRefusal.Unknown;
        }

        // Note: spent on first presentation whatever the outcome, atomically, so two upgrades racing with one ticket get one session.
        if (Interlocked.Exchange(ref entry.Used, 1) == 1)
        {
            return DesktopTicketRefusal.Reused;
        }

        if (time.GetUtcNow() >= entry.ExpiresAt)
        {
            return DesktopTicketRefusal.Expired;
        }

        if (!string.Equals(entry.ProjectId, projectId, StringComparison.Ordinal))
        {
            return DesktopTicketRefusal.OtherProject;
        }

        // Note: a ticket opens only the kind of session it was asked for, so the desktop's ticket cannot open a terminal (whose
        // permit rule may differ) and the reverse.
        if (!string.Equals(entry.Kind, kind, StringComparison.Ordinal))
        {
            return DesktopTicketRefusal.OtherKind;
        }

        claims = entry.Claims;
        return DesktopTicketRefusal.None;
    }

    private static string Hash(string ticket) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ticket)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Drops tickets past their lifetime (kept a lifetime longer, so a late reuse is still told apart from a forgery).</summary>
    private void Sweep(DateTimeOffset now)
    {
        var cutoff = now - options.Value.TicketLifetime;
        foreach (var (hash, entry) in _entries)
        {
            if (entry.ExpiresAt < cutoff)
            {
                _entries.TryRemove(hash, out _);
            }
        }
    }

    private sealed class Entry(string subject, string projectId, string kind, IReadOnlyList<Claim> claims, DateTimeOffset expiresAt)
    {
        public int Used;

        public string Subject { get; } = subject;

        public string ProjectId { get; } = projectId;

        public string Kind { get; } = kind;

        public IReadOnlyList<Claim> Claims { get; } = claims;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;
    }
}
