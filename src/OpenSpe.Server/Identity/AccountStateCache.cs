using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace OpenSpe.Server.Identity;

/// <summary>What token validation needs to know of an account now.</summary>
/// <param name="Stamp">Digest of the current security stamp (<see cref="SpeClaims.Stamp"/>).</param>
/// <param name="Disabled">Disabled by an admin.</param>
internal sealed record AccountState(string Stamp, bool Disabled);

/// <summary>
/// A small cache of values read from the database that may be trusted for at most a configured
/// time (≤ 1 s, on the real clock: it bounds how stale another instance may be). Bounded: an
/// attacker sending tokens for many subjects cannot grow it without limit.
/// </summary>
internal sealed class FreshnessCache<T>(TimeSpan maxAge, int capacity = 50_000)
{
    private readonly ConcurrentDictionary<string, (T Value, long ReadAt)> _entries = new(StringComparer.Ordinal);

    public async ValueTask<T> GetAsync(string key, Func<string, CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var entry) && Stopwatch.GetElapsedTime(entry.ReadAt) < maxAge)
        {
            return entry.Value;
        }

        var started = Stopwatch.GetTimestamp();
        var value = await load(key, cancellationToken);
        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        // Note: stamped with the time the read started, so a change committed during the read is not trusted away for a full period.
        _entries[key] = (value, started);
        return value;
    }

    public void Invalidate(string key) => _entries.TryRemove(key, out _);
}

/// <summary>
/// The current state of accounts, for validating every token (revocation within one second, on
/// every instance): password change, second-factor reset, disabling, role revocation and logout
/// change the account's security stamp, and a token carrying an older stamp is refused.
/// </summary>
internal sealed class AccountStateCache(IServiceScopeFactory scopes, IOptions<TokenOptions> options)
{
    private readonly FreshnessCache<AccountState?> _cache = new(options.Value.AccountStateCacheTime);

    /// <summary>The account's state, or null when it does not exist.</summary>
    public ValueTask<AccountState?> GetAsync(string accountId, CancellationToken cancellationToken) =>
        _cache.GetAsync(accountId, LoadAsync, cancellationToken);

    /// <summary>Forgets the cached state after a change on this instance, so it takes effect at once here.</summary>
    public void Invalidate(string accountId) => _cache.Invalidate(accountId);

    /// <summary>The token form of an account's security stamp: a digest, so tokens never carry the stamp itself.</summary>
    public static string StampOf(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(user.SecurityStamp ?? ""));
        return System.Buffers.Text.Base64Url.EncodeToString(digest.AsSpan(0, 16));
    }

    private async Task<AccountState?> LoadAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var user = await users.FindByIdAsync(accountId);
        return user is null ? null : new AccountState(StampOf(user), user.Disabled);
    }
}

/// <summary>Whether applications still exist, for validating their tokens (a deleted application's tokens stop within one second).</summary>
internal sealed class ApplicationStateCache(IServiceScopeFactory scopes, IOptions<TokenOptions> options)
{
    private readonly FreshnessCache<bool> _cache = new(options.Value.AccountStateCacheTime);

    /// <summary>True when a confidential client with this id is registered.</summary>
    public ValueTask<bool> ExistsAsync(string clientId, CancellationToken cancellationToken) =>
        _cache.GetAsync(clientId, LoadAsync, cancellationToken);

    /// <summary>Forgets the cached state after a change on this instance.</summary>
    public void Invalidate(string clientId) => _cache.Invalidate(clientId);

    private async Task<bool> LoadAsync(string clientId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        return await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application
            && await applications.HasClientTypeAsync(application, OpenIddictConstants.ClientTypes.Confidential, cancellationToken);
    }
}

/// <summary>
/// Whether sign-in sessions (OpenIddict authorizations) are still valid, so that ending one session stops its access
/// tokens and the portal cookie built on it within one second, as a logout does for all of them.
/// </summary>
internal sealed class SessionStateCache(IServiceScopeFactory scopes, IOptions<TokenOptions> options)
{
    private readonly FreshnessCache<bool> _cache = new(options.Value.AccountStateCacheTime);

    /// <summary>True while the authorization with this id exists and is valid.</summary>
    public ValueTask<bool> IsValidAsync(string authorizationId, CancellationToken cancellationToken) =>
        _cache.GetAsync(authorizationId, LoadAsync, cancellationToken);

    /// <summary>Forgets the cached state after a session ended on this instance.</summary>
    public void Invalidate(string authorizationId) => _cache.Invalidate(authorizationId);

    private async Task<bool> LoadAsync(string authorizationId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
        return await authorizations.FindByIdAsync(authorizationId, cancellationToken) is { } authorization
            && await authorizations.HasStatusAsync(authorization, OpenIddictConstants.Statuses.Valid, cancellationToken);
    }
}
