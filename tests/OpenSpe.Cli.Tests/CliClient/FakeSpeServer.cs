using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>
/// A fake of the SPE's token endpoint and account API, in process and without TLS, for unit tests
/// of the CLI client: it issues opaque tokens, rotates refresh tokens (a used one stops working)
/// and answers 401/403 with problem bodies the way the contract says the real server does.
/// </summary>
internal sealed class FakeSpeServer(TimeProvider time) : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset ExpiresAt, bool Mfa)> _access = new();
    private readonly ConcurrentDictionary<string, bool> _refresh = new();
    private int _counter;

    public string Username { get; set; } = "alice";

    public string Password { get; set; } = "correct horse battery";

    public string Otp { get; set; } = "123456";

    public bool MfaEnrolled { get; set; } = true;

    public TimeSpan AccessLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Device grant: how many polls answer authorization_pending (then one slow_down) before the token.</summary>
    public int DevicePendingPolls { get; set; } = 2;

    /// <summary>Answers for other routes ("METHOD /path"), as (status, JSON body or null).</summary>
    public Dictionary<string, (HttpStatusCode Status, string? Body)> Routes { get; } = [];

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Each request's path with its query, for tests that check the query a verb sent.</summary>
    public ConcurrentQueue<string> PathsWithQuery { get; } = new();

    public ConcurrentQueue<Dictionary<string, string>> Forms { get; } = new();

    public ConcurrentQueue<string> Bodies { get; } = new();

    public int RefreshGrants;

    public int Revocations;

    public bool Unreachable { get; set; }

    /// <summary>Issues a token pair as a password+TOTP sign-in would, for tests that start signed in.</summary>
    public (string Access, string Refresh) Issue(bool mfa = true, TimeSpan? lifetime = null)
    {
        var n = Interlocked.Increment(ref _counter);
        var access = $"at-{n}";
        var refresh = $"rt-{n}";
        _access[access] = (time.GetUtcNow() + (lifetime ?? AccessLifetime), mfa);
        _refresh[refresh] = mfa;
        return (access, refresh);
    }

    /// <summary>Makes an access token unusable before its expiry, as a server restart with a new key would.</summary>
    public void Forget(string accessToken) => _access.TryRemove(accessToken, out _);

    public bool IsRefreshTokenValid(string token) => _refresh.ContainsKey(token);

    public void Revoke(string refreshToken) => _refresh.TryRemove(refreshToken, out _);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Unreachable)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (fake)");
        }

        var route = $"{request.Method} {request.RequestUri!.AbsolutePath}";
        Requests.Enqueue(route);
        PathsWithQuery.Enqueue(request.RequestUri.PathAndQuery);
        if (request.Content is FormUrlEncodedContent form)
        {
            var values = (await form.ReadAsStringAsync(cancellationToken)).Split('&')
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
            Forms.Enqueue(values);
            return route switch
            {
                "POST /connect/token" => Token(values),
                "POST /connect/revoke" => Revoke(values),
                "POST /connect/device" => Json(HttpStatusCode.OK, new
                {
                    device_code = "dev-1",
                    user_code = "WDJB-MJHT",
                    verification_uri = "https://spe.test/device",
                    verification_uri_complete = "https://spe.test/device?user_code=WDJB-MJHT",
                    expires_in = 600,
                    interval = 5,
                }),
                _ => Problem(HttpStatusCode.NotFound, "SPE1007", "There is no such resource."),
            };
        }

        if (request.Content is not null)
        {
            Bodies.Enqueue(await request.Content.ReadAsStringAsync(cancellationToken));
        }

        var bearer = request.Headers.Authorization is { Scheme: "Bearer" } auth ? auth.Parameter : null;
        if (bearer is null || !_access.TryGetValue(bearer, out var token) || time.GetUtcNow() >= token.ExpiresAt)
        {
            return Problem(HttpStatusCode.Unauthorized, "SPE1005", "Authentication is required: sign in with multi-factor authentication and send a bearer token.");
        }

        var enrolling = route.StartsWith("POST /api/v1/account/totp", StringComparison.Ordinal);
        if (!token.Mfa && !enrolling)
        {
            return Problem(HttpStatusCode.Forbidden, "SPE1006", "This session has no second factor: enrol one first.");
        }

        if (Routes.TryGetValue(route, out var answer))
        {
            return answer.Body is null
                ? new HttpResponseMessage(answer.Status)
                : new HttpResponseMessage(answer.Status) { Content = new StringContent(answer.Body, Encoding.UTF8, answer.Status >= HttpStatusCode.BadRequest ? "application/problem+json" : "application/json") };
        }

        return route == "GET /api/v1/account"
            ? Json(HttpStatusCode.OK, new
            {
                subjectId = "sub-" + Username,
                username = Username,
                roles = new[] { "researcher" },
                authenticationMethods = token.Mfa ? new[] { "pwd", "otp" } : ["pwd"],
                clientId = "spe-cli",
                mfaEnrolled = MfaEnrolled,
            })
            : Problem(HttpStatusCode.NotFound, "SPE1007", "There is no such resource.");
    }

    private HttpResponseMessage Token(Dictionary<string, string> form)
    {
        if (form.GetValueOrDefault("client_id") != "spe-cli")
        {
            return OAuthError("invalid_client", "unknown client");
        }

        switch (form.GetValueOrDefault("grant_type"))
        {
            case "password":
                if (form.GetValueOrDefault("username") != Username || form.GetValueOrDefault("password") != Password)
                {
                    return OAuthError("invalid_grant", "The credentials are invalid.");
                }

                var otp = form.GetValueOrDefault("otp");
                if (MfaEnrolled && otp != Otp)
                {
                    // As the real server: a missing or wrong code is answered exactly as a wrong password.
                    return OAuthError("invalid_grant", "The credentials are invalid.");
                }

                return Tokens(mfa: MfaEnrolled);
            case "refresh_token":
                Interlocked.Increment(ref RefreshGrants);
                return form.GetValueOrDefault("refresh_token") is { } used && _refresh.TryRemove(used, out var mfa)
                    ? Tokens(mfa)
                    : OAuthError("invalid_grant", "The refresh token is no longer valid.");
            case "urn:ietf:params:oauth:grant-type:device_code":
                if (DevicePendingPolls-- > 0)
                {
                    return OAuthError(DevicePendingPolls == 0 ? "slow_down" : "authorization_pending", "waiting");
                }

                return Tokens(mfa: true);
            default:
                return OAuthError("unsupported_grant_type", null);
        }
    }

    private HttpResponseMessage Tokens(bool mfa)
    {
        var (access, refresh) = Issue(mfa);
        return Json(HttpStatusCode.OK, new { access_token = access, refresh_token = refresh, expires_in = (long)AccessLifetime.TotalSeconds, token_type = "Bearer" });
    }

    private HttpResponseMessage Revoke(Dictionary<string, string> form)
    {
        Interlocked.Increment(ref Revocations);
        _refresh.TryRemove(form.GetValueOrDefault("token") ?? "", out _);
        return new HttpResponseMessage(HttpStatusCode.OK);
    }

    private static HttpResponseMessage OAuthError(string error, string? description) =>
        Json(HttpStatusCode.BadRequest, new { error, error_description = description });

    private static HttpResponseMessage Problem(HttpStatusCode status, string code, string detail)
    {
        var response = Json(status, new { type = $"https://openspe.eu/problems/{(int)status}", title = status.ToString(), status = (int)status, detail, code, traceId = "0af7651916cd43dd8448eb211c80319c" });
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/problem+json");
        return response;
    }

    private static HttpResponseMessage Json(HttpStatusCode status, object body) =>
        new(status) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
}
