using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OpenSpe.Cli.Client;
using Polly;

namespace OpenSpe.Cli.Transfers;

/// <summary>What <c>OPTIONS</c> on the upload collection announced.</summary>
/// <param name="Versions">Tus-Version.</param>
/// <param name="Extensions">Tus-Extension.</param>
/// <param name="MaxSize">Tus-Max-Size, or null when the server sets no limit.</param>
/// <param name="ChecksumAlgorithms">Tus-Checksum-Algorithm.</param>
internal sealed record TusCapabilities(IReadOnlyList<string> Versions, IReadOnlyList<string> Extensions, long? MaxSize, IReadOnlyList<string> ChecksumAlgorithms)
{
    /// <summary>What a server that answers OPTIONS with nothing useful is assumed to support: the core protocol and creation only.</summary>
    public static TusCapabilities Minimal { get; } = new([TusProtocol.Version], [TusProtocol.Creation], null, []);

    public bool Supports(string extension) => Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase);

    /// <summary>The checksum algorithm to use: sha256 when offered, else sha1, else none.</summary>
    public string? ChecksumAlgorithm =>
        !Supports(TusProtocol.Checksum) ? null
        : ChecksumAlgorithms.Contains("sha256", StringComparer.OrdinalIgnoreCase) ? "sha256"
        : ChecksumAlgorithms.Contains("sha1", StringComparer.OrdinalIgnoreCase) ? "sha1"
        : null;
}

/// <summary>An upload's state on the server (<c>HEAD</c>, or the answer to <c>PATCH</c>).</summary>
/// <param name="Offset">Upload-Offset.</param>
/// <param name="Length">Upload-Length (HEAD only).</param>
/// <param name="Expires">Upload-Expires.</param>
/// <param name="FileId">The SPE's <c>Upload-File-Id</c>: the dataset file the last PATCH created.</param>
/// <param name="Resynced">
/// The answer to a <c>HEAD</c> asked after a PATCH failed on the way (see <see cref="TusClient.PatchAsync"/>): where the server's
/// copy ends, which may be before, at or after the end of the chunk.
/// </param>
internal sealed record TusUploadStatus(long Offset, long? Length, DateTimeOffset? Expires, string? FileId = null, bool Resynced = false);

/// <summary>
/// The body of a <c>POST</c> (creation-with-upload) or <c>PATCH</c>: its length, a way to make its content (again, when a
/// request is rebuilt after a token refresh), and its <c>Upload-Checksum</c> if any.
/// </summary>
internal sealed record TusBody(long Length, Func<HttpContent> Content, string? Checksum)
{
    /// <summary>No body.</summary>
    public static TusBody Empty { get; } = FromMemory(ReadOnlyMemory<byte>.Empty, null);

    /// <summary>A body held in memory.</summary>
    public static TusBody FromMemory(ReadOnlyMemory<byte> bytes, string? checksum) => new(bytes.Length, () => new ReadOnlyMemoryContent(bytes), checksum);
}

/// <summary>A new upload (<c>POST</c>).</summary>
internal sealed record TusCreated(Uri Location, long Offset, DateTimeOffset? Expires, string? FileId = null);

/// <summary>
/// A tus 1.0.0 client (core, creation, creation-with-upload, checksum, expiration, termination, concatenation) over the CLI's
/// <see cref="ServerConnection"/>: every request carries <c>Tus-Resumable: 1.0.0</c> and the session's bearer token,
/// refreshed like <see cref="SpeApiClient"/> does. Transient failures (the network, 408, 429, 5xx) are retried with
/// <see cref="ClientRetry"/>; every request is safe to repeat: a PATCH is conditional on its offset (and is followed by a HEAD
/// instead of being repeated), a DELETE is idempotent, and a repeated final upload finds its partial uploads gone. Error
/// answers become <see cref="ApiProblemException"/> (the status is kept, so callers can tell 409 from 460 from 422); network
/// failures that outlast the retries become <see cref="SpeClientException"/>. A request with a body asks
/// <c>Expect: 100-continue</c>, so a refusal (403, 409, 413, ...) comes back as an answer before the body is sent.
/// </summary>
internal sealed class TusClient
{
    private readonly SpeApiClient _api;
    private readonly ServerConnection _connection;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    /// <param name="api">Holds the session's tokens and refreshes them.</param>
    /// <param name="connection">The connection tus requests go over (usually one with a longer timeout than JSON calls).</param>
    /// <param name="time">The clock that decides when the token needs a refresh, and that retries wait on.</param>
    /// <param name="retry">How transient failures are retried (<see cref="RetrySettings.Default"/> when null).</param>
    public TusClient(SpeApiClient api, ServerConnection connection, TimeProvider time, RetrySettings? retry = null)
    {
        _api = api;
        _connection = connection;
        _time = time;
        _retry = ClientRetry.Create(retry ?? RetrySettings.Default, time, text => Notice?.Invoke(text));
    }

    /// <summary>Told what failed and how long the next retry waits (one line); the uploader shows it under its progress.</summary>
    public Action<string>? Notice { get; set; }

    /// <summary>Which HTTP version tus requests ask for (HTTP/1.1 moves bulk data with less overhead than HTTP/2 on a fast link).</summary>
    public Version HttpVersion { get; init; } = System.Net.HttpVersion.Version11;

    /// <summary><c>OPTIONS</c> on the collection; a server that answers without tus headers gets <see cref="TusCapabilities.Minimal"/>.</summary>
    public async Task<TusCapabilities> OptionsAsync(Uri collection, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(_ => Request(HttpMethod.Options, collection), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // 404/405: the server does not speak tus at this address, or not OPTIONS; the POST will tell.
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            {
                return TusCapabilities.Minimal;
            }

            throw await ProblemText.FromResponseAsync(response, cancellationToken);
        }

        var versions = List(response, TusHeaders.Version);
        return new TusCapabilities(
            versions.Count == 0 ? [TusProtocol.Version] : versions,
            List(response, TusHeaders.Extension),
            Header(response, TusHeaders.MaxSize) is { } max && long.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : null,
            List(response, TusHeaders.ChecksumAlgorithm));
    }

    /// <summary>
    /// <c>POST</c>: creates an upload of <paramref name="length"/> bytes with <paramref name="metadata"/>; with a non-empty
    /// <paramref name="firstChunk"/> (creation-with-upload) sends it in the same request.
    /// </summary>
    /// <param name="collection">The uploads collection.</param>
    /// <param name="length">Upload-Length.</param>
    /// <param name="metadata">Upload-Metadata.</param>
    /// <param name="firstChunk">The body to send with the creation (creation-with-upload), or empty.</param>
    /// <param name="partial">A concatenation partial upload (<c>Upload-Concat: partial</c>), completed later by <see cref="CreateFinalAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<TusCreated> CreateAsync(Uri collection, long length, IReadOnlyList<KeyValuePair<string, string>> metadata,
        TusBody firstChunk, bool partial, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(firstChunk);
        using var response = await SendAsync(_ =>
        {
            var request = Request(HttpMethod.Post, collection);
            if (partial)
            {
                request.Headers.Add(TusHeaders.UploadConcat, TusProtocol.ConcatPartial);
            }

            request.Headers.Add(TusHeaders.UploadLength, length.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(TusHeaders.UploadMetadata, EncodeMetadata(metadata));
            if (firstChunk.Length > 0)
            {
                SetBody(request, firstChunk);
            }

            return request;
        }, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created || response.Headers.Location is not { } location)
        {
            throw new SpeClientException($"the server answered POST {collection.AbsolutePath} with {(int)response.StatusCode} but no upload Location");
        }

        var absolute = Resolve(collection, location);
        var offset = Offset(response) ?? 0;
        return new TusCreated(absolute, firstChunk.Length == 0 ? 0 : offset, Expires(response), Header(response, TusHeaders.UploadFileId));
    }

    /// <summary>
    /// <c>POST</c> with <c>Upload-Concat: final;…</c> (concatenation): the file made of the finished <paramref name="partials"/>,
    /// in order, with <paramref name="metadata"/>. The server verifies it before answering; the answer names the file.
    /// </summary>
    public async Task<TusCreated> CreateFinalAsync(Uri collection, IReadOnlyList<Uri> partials, IReadOnlyList<KeyValuePair<string, string>> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(partials);
        ArgumentNullException.ThrowIfNull(metadata);
        using var response = await SendAsync(_ =>
        {
            var request = Request(HttpMethod.Post, collection);
            // Note: paths, not absolute URLs: the server resolves them among its own uploads either way.
            request.Headers.Add(TusHeaders.UploadConcat, TusProtocol.ConcatFinalPrefix + string.Join(' ', partials.Select(p => p.IsAbsoluteUri ? p.AbsolutePath : p.OriginalString)));
            request.Headers.Add(TusHeaders.UploadMetadata, EncodeMetadata(metadata));
            return request;
        }, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created || response.Headers.Location is not { } location)
        {
            throw new SpeClientException($"the server answered the final POST {collection.AbsolutePath} with {(int)response.StatusCode} but no upload Location");
        }

        return new TusCreated(Resolve(collection, location), Offset(response) ?? 0, null, Header(response, TusHeaders.UploadFileId));
    }

    /// <summary><c>HEAD</c>: where the server's copy of the upload ends.</summary>
    public async Task<TusUploadStatus> HeadAsync(Uri location, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(_ => Request(HttpMethod.Head, location), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return Status(response, location);
    }

    /// <summary>
    /// <c>PATCH</c>: appends <paramref name="chunk"/> at <paramref name="offset"/>; returns the server's new offset. When the
    /// PATCH fails on the way (the connection, a timeout, a 5xx), each retry asks <c>HEAD</c> first, because the server may have
    /// kept some or all of the chunk: only when it still ends at <paramref name="offset"/> is the chunk sent again; otherwise
    /// the HEAD's answer is returned, marked <see cref="TusUploadStatus.Resynced"/>, and the caller continues from there.
    /// </summary>
    public async Task<TusUploadStatus> PatchAsync(Uri location, long offset, TusBody chunk, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var asked = HttpMethod.Patch;
        using var response = await ExecuteAsync(async (attempt, token) =>
        {
            if (attempt > 0)
            {
                // Note: after a failure the server may hold some or all of the chunk, so it is asked before anything is sent again.
                asked = HttpMethod.Head;
                var head = await SendAttemptAsync(Request(HttpMethod.Head, location), token);
                if (!head.IsSuccessStatusCode || Offset(head) != offset)
                {
                    return head;
                }

                head.Dispose();
            }

            asked = HttpMethod.Patch;
            var request = Request(HttpMethod.Patch, location);
            request.Headers.Add(TusHeaders.UploadOffset, offset.ToString(CultureInfo.InvariantCulture));
            SetBody(request, chunk);
            return await SendAttemptAsync(request, token);
        }, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return asked == HttpMethod.Head
            ? Status(response, location) with { Resynced = true }
            : new TusUploadStatus(Offset(response) ?? offset + chunk.Length, null, Expires(response), Header(response, TusHeaders.UploadFileId));
    }

    /// <summary><c>DELETE</c> (termination); an upload that is already gone counts as deleted.</summary>
    public async Task DeleteAsync(Uri location, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(_ => Request(HttpMethod.Delete, location), cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return;
        }

        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary><c>Upload-Metadata</c>: comma-separated <c>key base64(value)</c> pairs.</summary>
    public static string EncodeMetadata(IEnumerable<KeyValuePair<string, string>> metadata) =>
        string.Join(',', metadata.Select(p => p.Value.Length == 0 ? p.Key : $"{p.Key} {Convert.ToBase64String(Encoding.UTF8.GetBytes(p.Value))}"));

    /// <summary>
    /// The upload URL from a <c>Location</c> header, resolved against the request. It must stay on the server's origin:
    /// the bearer token is sent to it, so a Location pointing elsewhere is refused rather than followed.
    /// </summary>
    internal Uri Resolve(Uri request, Uri location)
    {
        var absolute = location.IsAbsoluteUri ? location : new Uri(request, location);
        var server = _connection.Server;
        if (!string.Equals(absolute.Scheme, server.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(absolute.IdnHost, server.IdnHost, StringComparison.OrdinalIgnoreCase)
            || absolute.Port != server.Port)
        {
            throw new SpeClientException($"refusing the upload Location {ServerConnection.Sanitize(absolute.ToString())}: it is not on {server.GetLeftPart(UriPartial.Authority)}, and the session's token would be sent there");
        }

        return absolute;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemText.FromResponseAsync(response, cancellationToken);
        }
    }

    private HttpRequestMessage Request(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri)
        {
            Version = HttpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.Add(TusHeaders.Resumable, TusProtocol.Version);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/problem+json"));
        return request;
    }

    /// <summary>
    /// Gives <paramref name="request"/> the chunk as its body. Note: <c>Expect: 100-continue</c>, because a server that refuses
    /// the request (a file type the permit does not allow, a wrong offset, a full quota) answers before reading the body, and
    /// a client still sending it would see a broken connection instead of the answer and its reason.
    /// </summary>
    private static void SetBody(HttpRequestMessage request, TusBody chunk)
    {
        var content = chunk.Content();
        content.Headers.ContentType = new MediaTypeHeaderValue(TusProtocol.OffsetOctetStream);
        content.Headers.ContentLength = chunk.Length;
        request.Content = content;
        request.Headers.ExpectContinue = true;
        if (chunk.Checksum is { } checksum)
        {
            request.Headers.Add(TusHeaders.UploadChecksum, checksum);
        }
    }

    /// <summary>What a HEAD answered.</summary>
    private static TusUploadStatus Status(HttpResponseMessage response, Uri location)
    {
        var offset = Offset(response) ?? throw new SpeClientException($"the server's answer to HEAD {location.AbsolutePath} has no Upload-Offset");
        var length = Header(response, TusHeaders.UploadLength) is { } l && long.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (long?)null;
        return new TusUploadStatus(offset, length, Expires(response));
    }

    /// <summary>Sends the request <paramref name="build"/> makes for each attempt (0 first) that <see cref="ClientRetry"/> allows.</summary>
    private Task<HttpResponseMessage> SendAsync(Func<int, HttpRequestMessage> build, CancellationToken cancellationToken) =>
        ExecuteAsync((attempt, token) => SendAttemptAsync(build(attempt), token), cancellationToken);

    /// <summary>
    /// Runs <paramref name="attempt"/> with the bearer token, retried by <see cref="ClientRetry"/>; the token is refreshed before
    /// expiry, or once after a 401 (and the attempts start again).
    /// </summary>
    private async Task<HttpResponseMessage> ExecuteAsync(Func<int, CancellationToken, Task<HttpResponseMessage>> attempt, CancellationToken cancellationToken)
    {
        var refreshed = false;
        if (_time.GetUtcNow() >= _api.Credentials.AccessTokenExpiresAt - SpeApiClient.RefreshMargin)
        {
            await _api.RefreshAsync(_api.Credentials.AccessToken, cancellationToken);
            refreshed = true;
        }

        var response = await _connection.ExecuteAsync(attempt, _retry, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized && !refreshed && _api.Credentials.RefreshToken is not null)
        {
            response.Dispose();
            await _api.RefreshAsync(_api.Credentials.AccessToken, cancellationToken);
            response = await _connection.ExecuteAsync(attempt, _retry, cancellationToken);
        }

        return response;
    }

    /// <summary>Sends one request of an attempt with the session's current token.</summary>
    private Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _api.Credentials.AccessToken);
        return _connection.SendAttemptAsync(request, cancellationToken);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;

    private static List<string> List(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
            ? values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : [];

    private static long? Offset(HttpResponseMessage response) =>
        Header(response, TusHeaders.UploadOffset) is { } value && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : null;

    private static DateTimeOffset? Expires(HttpResponseMessage response) =>
        Header(response, TusHeaders.UploadExpires) is { } value
            && DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires) ? expires : null;
}
