using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OpenSpe.Server.Portal;

/// <summary>
/// The portal's one way to the SPE: HTTPS requests to this same server (the listener that took the browser's request),
/// with the person's own access token. Every page therefore shows exactly what the API gives that person: the same
/// authorization policies, access chain, halts, rate limits and audit records, never a second rule.
/// </summary>
/// <remarks>
/// Note: the server's certificate is pinned (the very certificate this process serves), because the backchannel must never
/// send a person's token to anything else.
/// </remarks>
internal sealed class PortalBackchannel : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public PortalBackchannel(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var pinned = certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && presented.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256).AsSpan().SequenceEqual(pinned),
            },
        })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            // Note: each call sets its own deadline (AnswerAsync), since an upload's may be longer than a page's.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>How long one call to the API may take, an upload's body aside.</summary>
    internal static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The slowest the API is allowed to take in an upload's body (spooled, type-checked, encrypted and stored) before the
    /// portal gives up: 4 MiB/s, a fraction of what a slow disk does.
    /// </summary>
    internal const long UploadFloorBytesPerSecond = 4L << 20;

    /// <summary>The deadline of a call that sends <paramref name="bodyBytes"/>: <see cref="CallTimeout"/> plus the body at the floor rate.</summary>
    internal static TimeSpan DeadlineFor(long? bodyBytes) =>
        CallTimeout + TimeSpan.FromSeconds((double)Math.Max(0, bodyBytes ?? 0) / UploadFloorBytesPerSecond);

    /// <summary>The listener that took <paramref name="context"/>'s request: always this server.</summary>
    public static Uri BaseFor(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var local = context.Connection.LocalIpAddress ?? IPAddress.Loopback;
        if (local.IsIPv4MappedToIPv6)
        {
            local = local.MapToIPv4();
        }

        return new UriBuilder(Uri.UriSchemeHttps, local.ToString(), context.Connection.LocalPort).Uri;
    }

    /// <summary>Posts a form to an OAuth endpoint (token, revocation) of this server.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> PostFormAsync(HttpContext context, string path, IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        using var timeout = Deadline(context, CallTimeout);
        using var response = await _http.PostAsync(new Uri(BaseFor(context), path), content, timeout.Token);
        return (response.StatusCode, await ReadJsonAsync(response, timeout.Token));
    }

    /// <summary>Sends an API request with the person's <paramref name="accessToken"/>.</summary>
    public async Task<ApiAnswer<T>> SendAsync<T>(HttpContext context, string accessToken, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseFor(context), path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        return await AnswerAsync<T>(context, request);
    }

    /// <summary>Sends <paramref name="content"/> (a multipart body, streamed) to an API route with the person's <paramref name="accessToken"/>.</summary>
    public async Task<ApiAnswer<T>> SendContentAsync<T>(HttpContext context, string accessToken, HttpMethod method, string path, HttpContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var request = new HttpRequestMessage(method, new Uri(BaseFor(context), path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await AnswerAsync<T>(context, request, DeadlineFor(content.Headers.ContentLength));
    }

    private async Task<ApiAnswer<T>> AnswerAsync<T>(HttpContext context, HttpRequestMessage request, TimeSpan? deadline = null)
    {
        using var timeout = Deadline(context, deadline ?? CallTimeout);
        var cancellation = timeout.Token;
        using var response = await _http.SendAsync(request, cancellation);
        if (response.IsSuccessStatusCode)
        {
            if (typeof(T) == typeof(string))
            {
                return new ApiAnswer<T>((T)(object)await response.Content.ReadAsStringAsync(cancellation), (int)response.StatusCode, null);
            }

            return new ApiAnswer<T>(response.StatusCode == HttpStatusCode.NoContent ? default : await response.Content.ReadFromJsonAsync<T>(Json, cancellation),
                (int)response.StatusCode, null);
        }

        var problem = await ReadJsonAsync(response, cancellation);
        return new ApiAnswer<T>(default, (int)response.StatusCode, ApiProblem.From((int)response.StatusCode, problem));
    }

    /// <summary>GETs <paramref name="path"/> with the person's token and returns the status and the body as text, whatever the status.</summary>
    public async Task<(int Status, string Body)> GetTextAsync(HttpContext context, string accessToken, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseFor(context), path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var timeout = Deadline(context, CallTimeout);
        using var response = await _http.SendAsync(request, timeout.Token);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }

    /// <summary>Opens a download from the API with the person's token; the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> DownloadAsync(HttpContext context, string accessToken, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseFor(context), path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        // Note: the deadline covers the answer's headers only; the body is then the browser's to read at its own pace.
        using var timeout = Deadline(context, CallTimeout);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    /// <summary>The browser's request's cancellation, or <paramref name="after"/>, whichever comes first.</summary>
    private static CancellationTokenSource Deadline(HttpContext context, TimeSpan after)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(after);
        return timeout;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The JSON body of <paramref name="response"/>, or an undefined element when it has none.</summary>
    internal static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }
}

/// <summary>What the API answered: the value, or its problem.</summary>
/// <typeparam name="T">The body type.</typeparam>
/// <param name="Value">The body of a success.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Problem">The problem of a refusal.</param>
internal sealed record ApiAnswer<T>(T? Value, int Status, ApiProblem? Problem)
{
    /// <summary>True for a 2xx answer.</summary>
    public bool Succeeded => Problem is null;
}

/// <summary>An RFC 9457 problem from the API, as the portal shows it.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Code">The SPE error code.</param>
/// <param name="Detail">The sentence that says what happened and what to do.</param>
/// <param name="Errors">Field errors of a validation problem, by field.</param>
internal sealed record ApiProblem(int Status, string? Code, string? Detail, IReadOnlyDictionary<string, IReadOnlyList<string>> Errors)
{
    /// <summary>Reads a problem body (or its absence).</summary>
    public static ApiProblem From(int status, JsonElement body)
    {
        string? Text(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var errors = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in e.EnumerateObject())
            {
                errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                    ? field.Value.EnumerateArray().Select(x => x.ToString()).ToList()
                    : [field.Value.ToString()];
            }
        }

        return new ApiProblem(status, Text("code"), Text("detail") ?? Text("error_description") ?? Text("title"), errors);
    }

    /// <summary>
    /// A refusal the portal makes itself before asking the API (a field it cannot send as typed), shaped as the API's own 400
    /// validation problem so the page shows it the same way.
    /// </summary>
    public static ApiProblem ForField(string field, string message, string detail) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.ValidationFailed, detail, new Dictionary<string, IReadOnlyList<string>> { [field] = [message] });

    /// <summary>
    /// The field errors by field name in lower case, as forms name their fields (two names that differ only in case are one
    /// field, with the messages of both).
    /// </summary>
    public FieldErrors ByField() =>
        new(Errors.GroupBy(e => e.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, (IReadOnlyList<string>)[.. g.SelectMany(e => e.Value)])));

    /// <summary>The whole refusal as one text: the detail, then every field's messages.</summary>
    public string Sentence() => string.Join(" ", new[] { Detail }.Concat(Errors.Values.SelectMany(e => e)).Where(t => !string.IsNullOrEmpty(t)));
}
