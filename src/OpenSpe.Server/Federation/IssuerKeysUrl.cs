using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A trusted permit issuer's keys as its SPE serves them (<see cref="TrustedPermitIssuer.KeysUrl"/>, pinned to
/// <see cref="TrustedPermitIssuer.KeysCertificateFingerprint"/>): fetched with a short timeout and a size cap, parsed as a
/// <c>KeysFile</c> is, cached, and fetched again — at most once per <see cref="RefetchInterval"/> — when a permit names a key id
/// the cache lacks. Fails closed: a failed fetch leaves the cache as it was (empty at first), so that issuer's permits signed
/// with a key it does not hold are refused; it is logged (SPE21029).
/// </summary>
internal sealed class IssuerKeysUrl : IDisposable
{
    /// <summary>The most a keys document may be.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The least time between two fetches for one issuer.</summary>
    public static readonly TimeSpan RefetchInterval = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly string _issuer;
    private readonly Uri _url;
    private readonly HttpClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset? _lastAttempt;

    public IssuerKeysUrl(string issuer, string url, string fingerprint, TimeProvider time, ILogger logger)
    {
        _issuer = issuer;
        _url = new Uri(url, UriKind.Absolute);
        _client = PinnedHttpClient.Create(fingerprint, Timeout);
        _time = time;
        _logger = logger;
    }

    /// <summary>The cached keys, fetched first when none of them has <paramref name="keyId"/> (any key when it is null) and none was fetched lately.</summary>
    public async Task<IReadOnlyList<SecurityKey>> KeysForAsync(string? keyId)
    {
        if (Holds(_keys, keyId))
        {
            return _keys;
        }

        await _fetching.WaitAsync();
        try
        {
            // Note: checked again under the lock, because a concurrent caller may have fetched meanwhile; and rate-limited, so a
            // stream of permits naming made-up key ids cannot turn this node into a client hammering the issuer.
            var now = _time.GetUtcNow();
            if (Holds(_keys, keyId) || (_lastAttempt is { } last && now - last < RefetchInterval))
            {
                return _keys;
            }

            _lastAttempt = now;
            var (keys, failure) = await FetchAsync();
            if (failure is not null)
            {
                FederationLog.IssuerKeysFetchFailed(_logger, _issuer, _url.ToString(), failure);
                return _keys;
            }

            _keys = keys;
            return _keys;
        }
        finally
        {
            _fetching.Release();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _fetching.Dispose();
    }

    private static bool Holds(IReadOnlyList<SecurityKey> keys, string? keyId) =>
        keys.Count > 0 && (keyId is null || keys.Any(k => string.Equals(k.KeyId, keyId, StringComparison.Ordinal)));

    private async Task<(IReadOnlyList<SecurityKey> Keys, string? Failure)> FetchAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            using var response = await _client.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return ([], $"HTTP {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > MaxBytes)
            {
                return ([], $"the document is longer than {MaxBytes} bytes");
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[MaxBytes + 1];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(read), timeout.Token)) > 0)
            {
                read += n;
            }

            if (read > MaxBytes)
            {
                return ([], $"the document is longer than {MaxBytes} bytes");
            }

            IReadOnlyList<SecurityKey> keys = [.. new JsonWebKeySet(Encoding.UTF8.GetString(buffer, 0, read)).GetSigningKeys()];
            return keys.Count == 0 ? ([], "the document holds no signing key") : (keys, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or ArgumentException or System.Text.Json.JsonException)
        {
            // Note: the certificate pin failing is an HttpRequestException here (the handshake is refused), as is an unreachable issuer.
            return ([], $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
