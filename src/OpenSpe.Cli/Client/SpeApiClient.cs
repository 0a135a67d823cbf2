using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace OpenSpe.Cli.Client;

/// <summary>
/// Calls the SPE API as the signed-in user: attaches the access token, refreshes it (storing the
/// rotated refresh token) when it is within <see cref="RefreshMargin"/> of expiry or the API answers
/// 401, and turns problem answers into <see cref="ApiProblemException"/>.
/// </summary>
internal sealed class SpeApiClient : IDisposable
{
    /// <summary>Refresh this long before expiry, so a token does not expire between the check and the server's validation.</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly CredentialStore _store;
    private readonly ServerConnection _connection;
    private readonly OAuthClient _oauth;
    private readonly TimeProvider _time;

    public SpeApiClient(CredentialStore store, StoredCredentials credentials, ServerConnection connection, TimeProvider time)
    {
        _store = store;
        Credentials = credentials;
        _connection = connection;
        _time = time;
        _oauth = new OAuthClient(connection, time);
    }

    /// <summary>The credentials in use; replaced after each refresh.</summary>
    public StoredCredentials Credentials { get; private set; }

    /// <summary>Opens a client from the stored credentials, or fails with the hint to sign in.</summary>
    public static SpeApiClient Open(ClientEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var store = environment.Store();
        var credentials = store.Load() ?? throw new SpeClientException("not signed in: run 'spe login --server URL --user NAME' first");
        return new SpeApiClient(store, credentials, environment.Connect(credentials.ServerUri, credentials.CaFingerprint), environment.Time);
    }

    /// <summary>Progress lines, one JSON object each.</summary>
    public const string NdjsonMediaType = "application/x-ndjson";

    public async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) =>
        await ReadAsync<T>(await SendAsync(HttpMethod.Get, path, null, cancellationToken), cancellationToken);

    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        await ReadAsync<T>(await SendAsync(method, path, body, cancellationToken), cancellationToken);

    /// <summary>Sends a request whose answer may have no body; returns the JSON if there is one.</summary>
    public async Task<JsonElement?> SendOptionalAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new SpeClientException($"the server's answer to {method} /{path} is not JSON", ex);
        }
    }

    /// <summary>Sends a request; a non-success answer throws. The caller disposes the response.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        SendAsync(method, path, body, streamBody: false, cancellationToken);

    /// <summary>
    /// A GET whose answer is returned once its headers arrive; its body is read from the network as the caller reads it (an
    /// export larger than memory). A non-success answer throws. The caller disposes the response.
    /// </summary>
    public Task<HttpResponseMessage> GetStreamingAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, streamBody: true, cancellationToken);

    /// <summary>
    /// Posts asking for <c>application/x-ndjson</c> progress lines as well as JSON, and returns as soon as the headers are in (the
    /// caller reads the lines as they come and disposes the response); a non-success answer throws.
    /// </summary>
    public Task<HttpResponseMessage> PostForLinesAsync(string path, object? body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, streamBody: true, cancellationToken, NdjsonMediaType);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, bool streamBody, CancellationToken cancellationToken, string? alsoAccept = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        var refreshed = false;
        if (_time.GetUtcNow() >= Credentials.AccessTokenExpiresAt - RefreshMargin)
        {
            await RefreshAsync(Credentials.AccessToken, cancellationToken);
            refreshed = true;
        }

        var response = await SendOnceAsync(method, path, body, streamBody, alsoAccept, cancellationToken);

        // A 401 with a token we believe valid: revoked, server restarted with a new key, or clock skew. One refresh and retry, never a loop.
        if (response.StatusCode == HttpStatusCode.Unauthorized && !refreshed && Credentials.RefreshToken is not null)
        {
            response.Dispose();
            await RefreshAsync(Credentials.AccessToken, cancellationToken);
            response = await SendOnceAsync(method, path, body, streamBody, alsoAccept, cancellationToken);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await ProblemText.FromResponseAsync(response, cancellationToken);
            }
        }

        return response;
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Refreshes unless another spe process already replaced <paramref name="staleAccessToken"/> while we waited for the lock.</summary>
    internal async Task RefreshAsync(string staleAccessToken, CancellationToken cancellationToken)
    {
        using var _ = await _store.LockAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (_store.Load() is { } stored && stored.Server == Credentials.Server && stored.AccessToken != staleAccessToken
            && _time.GetUtcNow() < stored.AccessTokenExpiresAt - RefreshMargin)
        {
            Credentials = stored;
            return;
        }

        if (Credentials.RefreshToken is null)
        {
            throw new SpeClientException("the session has expired: run 'spe login' again");
        }

        TokenResponse token;
        try
        {
            token = await _oauth.RefreshAsync(Credentials.RefreshToken, cancellationToken);
        }
        catch (OAuthException ex) when (ex.Error is "invalid_grant")
        {
            throw new SpeClientException("the session has expired or was revoked: run 'spe login' again", ex);
        }

        Credentials = Credentials with
        {
            AccessToken = token.AccessToken!,
            AccessTokenExpiresAt = ExpiresAt(_time, token),

            // Rotation: the old refresh token is dead now; keep it only if the server sent none (no rotation).
            RefreshToken = token.RefreshToken ?? Credentials.RefreshToken,
        };
        _store.Save(Credentials);
    }

    /// <summary>When a fresh token expires; a server that omits expires_in gets the safe assumption of "refresh next time".</summary>
    internal static DateTimeOffset ExpiresAt(TimeProvider time, TokenResponse token) =>
        time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(0, token.ExpiresIn ?? 0));

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, object? body, bool streamBody, string? alsoAccept, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Credentials.AccessToken);
        if (alsoAccept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(alsoAccept));
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/problem+json"));
        if (body is Func<HttpContent> make)
        {
            // Note: a factory, not the content itself, because the request (and with it its content) is disposed after each
            // attempt, and the one retry after a refreshed token must send the whole body again.
            request.Content = make();
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        return await _connection.SendAsync(request, streamBody ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using (response)
        {
            try
            {
                return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                    ?? throw new SpeClientException($"the server's answer to {response.RequestMessage?.RequestUri?.AbsolutePath} is empty");
            }
            catch (JsonException ex)
            {
                throw new SpeClientException($"the server's answer to {response.RequestMessage?.RequestUri?.AbsolutePath} is not the expected JSON", ex);
            }
        }
    }
}
