using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>One request as the fake saw it.</summary>
internal sealed record TusRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, long BodyBytes, bool? ChecksumMatched, int Status);

/// <summary>An upload the fake holds.</summary>
internal sealed class FakeUpload
{
    public required string Id { get; init; }

    public required long Length { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>A concatenation partial upload: its last byte completes nothing.</summary>
    public bool Partial { get; init; }

    public MemoryStream Data { get; } = new();

    public long Offset => Data.Length;
}

/// <summary>
/// A fake of the SPE's upload contract for CLI tests: Kestrel on 127.0.0.1 over HTTPS (dev certificate), serving the project
/// public key, tus 1.0.0 (creation, creation-with-upload, checksum, expiration, termination) at
/// <c>/api/v1/projects/{id}/uploads</c> and the files list. It keeps uploads in memory, verifies the completed file like the
/// real server (Crypt4GH for the project key, plaintext SHA-256 as declared; 422 otherwise), records every request and every
/// body byte it received, and injects faults: a connection dropped after a committed chunk or mid-body, a stall (so a test
/// can kill the client), 409 and 460 answers.
/// </summary>
internal sealed class FakeTusServer : IAsyncDisposable
{
    public const string Token = "holder-token";
    public const string Project = "p-42";
    public const string Dataset = "ds-1";

    private readonly TempDirectory _directory;
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private long _received;
    private int _counter;
    private int _inFlight;
    private readonly TaskCompletionSource _stallReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeTusServer(TempDirectory directory, WebApplication app, string fingerprint, int port)
    {
        _directory = directory;
        _app = app;
        CertificateFingerprint = fingerprint;
        BaseAddress = new Uri($"https://127.0.0.1:{port}/");
    }

    public Uri BaseAddress { get; }

    public string CertificateFingerprint { get; }

    /// <summary>The project's key pair; tests decrypt what the fake received with it.</summary>
    public Crypt4ghPrivateKey ProjectKey { get; } = Crypt4ghPrivateKey.Generate();

    public ConcurrentQueue<TusRequest> Requests { get; } = new();

    public ConcurrentDictionary<string, FakeUpload> Uploads { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<(FakeUpload Upload, string FileId, DateTimeOffset At)> Completed { get; } = new();

    /// <summary>Every body byte received, in order, whether kept or not: nothing in it may be plaintext.</summary>
    public MemoryStream Received { get; } = new();

    /// <summary>Once: after a chunk that brings the bytes received to this many is stored, close the connection instead of answering.</summary>
    public long? DropResponseAfterBytes { get; set; }

    /// <summary>Once: close the connection in the middle of a body once this many bytes have arrived (the partial chunk is discarded, as checksums require).</summary>
    public long? DropMidBodyAfterBytes { get; set; }

    /// <summary>
    /// With <see cref="DropMidBodyAfterBytes"/>: keep this many bytes of the broken chunk, as the real server keeps what arrived
    /// without a checksum (kept here even with one, which stands for an earlier run without <c>--checksum</c>: an odd offset).
    /// </summary>
    public long? PartialBytesKeptOnDrop { get; set; }

    /// <summary>Once: stop reading once this many bytes have arrived, until the client goes away; <see cref="Stalled"/> completes then.</summary>
    public long? StallAfterBytes { get; set; }

    public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int ConflictsToInject { get; set; }

    public int ChecksumMismatchesToInject { get; set; }

    /// <summary>The fingerprint the key endpoint states (null: the key's real one).</summary>
    public string? StatedFingerprint { get; set; }

    /// <summary>A Location to answer POST with instead of the real one.</summary>
    public string? LocationOverride { get; set; }

    /// <summary>Whether the last PATCH names the new file in <c>Upload-File-Id</c> (else the client must find it in the list).</summary>
    public bool SendFileId { get; set; } = true;

    public long MaxSize { get; set; } = 1L << 30;

    /// <summary>Refuse every creation with a 403 and this detail (as the real server refuses a file type the permit does not allow).</summary>
    public string? CreationRefusal { get; set; }

    /// <summary>Offer (and serve) the concatenation extension: partial uploads, and final uploads that complete them.</summary>
    public bool Concatenation { get; set; }

    /// <summary>Once: complete a final upload, then close the connection instead of answering.</summary>
    public bool DropFinalResponse { get; set; }

    public List<object> ExtraFiles { get; } = [];

    public long ReceivedBytes => Interlocked.Read(ref _received);

    public static async Task<FakeTusServer> StartAsync()
    {
        var directory = new TempDirectory();
        try
        {
            var certificate = TlsCertificates.LoadOrCreateDev(DataDirectory.Open(directory.File("tls")), TimeProvider.System);
            var port = SpeTestServer.FreePort();
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            {
                kestrel.Limits.MaxRequestBodySize = null;
                kestrel.Listen(IPAddress.Loopback, port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                });
            });
            var app = builder.Build();
            var server = new FakeTusServer(directory, app, TlsCertificates.Fingerprint(certificate), port);
            app.Run(server.HandleAsync);
            await app.StartAsync();
            return server;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>The plaintext of a completed upload.</summary>
    public byte[] Decrypt(FakeUpload upload)
    {
        using var input = new MemoryStream(upload.Data.ToArray());
        using var output = new MemoryStream();
        Crypt4ghFile.Decrypt(input, output, ProjectKey);
        return output.ToArray();
    }

    public IEnumerable<TusRequest> Tus => Requests.Where(r => r.Path.Contains("/uploads", StringComparison.Ordinal));

    /// <summary>Waits until no request is being handled (a request is recorded only when its handler ends, e.g. after a stall).</summary>
    /// <summary>Ends a stall (call once the client process has exited).</summary>
    public void ReleaseStall() => _stallReleased.TrySetResult();

    public async Task WaitIdleAsync()
    {
        ReleaseStall();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref _inFlight) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the fake tus server is still handling a request");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        ProjectKey.Dispose();
        _directory.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in new[] { "Tus-Resumable", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Concat", "Upload-Checksum", "Content-Type", "Authorization" })
        {
            if (request.Headers.TryGetValue(name, out var value))
            {
                headers[name] = value.ToString();
            }
        }

        var body = new BodyResult(0, null);
        Interlocked.Increment(ref _inFlight);
        try
        {
            body = await RouteAsync(context, headers);
        }
        finally
        {
            Requests.Enqueue(new TusRequest(request.Method, request.Path.Value ?? "", headers, body.Bytes, body.ChecksumMatched, context.Response.StatusCode));
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<BodyResult> RouteAsync(HttpContext context, Dictionary<string, string> headers)
    {
        var request = context.Request;
        var response = context.Response;
        if (headers.GetValueOrDefault("Authorization") != "Bearer " + Token)
        {
            await ProblemAsync(context, 401, "The access token is missing or invalid.");
            return BodyResult.None;
        }

        var prefix = $"/api/v1/projects/{Project}";
        var path = request.Path.Value ?? "";
        if (HttpMethods.IsGet(request.Method) && path == prefix + "/public-key")
        {
            await JsonAsync(context, new { publicKey = ProjectKey.PublicKey.ToPem(), fingerprint = StatedFingerprint ?? ProjectKey.PublicKey.Fingerprint });
            return BodyResult.None;
        }

        if (HttpMethods.IsGet(request.Method) && path == prefix + "/files")
        {
            var files = Completed.Select(c => (object)new
            {
                id = c.FileId,
                dataset = c.Upload.Metadata["dataset"],
                filename = c.Upload.Metadata["filename"],
                size = c.Upload.Length,
                plaintextSize = Decrypt(c.Upload).LongLength,
                sha256 = Convert.ToHexStringLower(SHA256.HashData(c.Upload.Data.ToArray())),
                plaintextSha256 = c.Upload.Metadata["plaintextSha256"],
                uploadedBy = "holder",
                uploadedAt = c.At,
            }).Concat(ExtraFiles).ToList();
            await JsonAsync(context, files);
            return BodyResult.None;
        }

        if (!path.StartsWith(prefix + "/uploads", StringComparison.Ordinal))
        {
            await ProblemAsync(context, 404, "No such route.");
            return BodyResult.None;
        }

        response.Headers["Tus-Resumable"] = "1.0.0";
        var id = path.Length > (prefix + "/uploads/").Length ? path[(prefix + "/uploads/").Length..] : null;
        if (HttpMethods.IsOptions(request.Method) && id is null)
        {
            response.Headers["Tus-Version"] = "1.0.0";
            response.Headers["Tus-Extension"] = "creation,creation-with-upload,checksum,expiration,termination" + (Concatenation ? ",concatenation" : "");
            response.Headers["Tus-Max-Size"] = MaxSize.ToString(CultureInfo.InvariantCulture);
            response.Headers["Tus-Checksum-Algorithm"] = "sha1,sha256";
            response.StatusCode = 204;
            return BodyResult.None;
        }

        if (headers.GetValueOrDefault("Tus-Resumable") != "1.0.0")
        {
            response.Headers["Tus-Version"] = "1.0.0";
            await ProblemAsync(context, 412, "Send Tus-Resumable: 1.0.0.");
            return BodyResult.None;
        }

        if (HttpMethods.IsPost(request.Method) && id is null)
        {
            return await CreateAsync(context, headers);
        }

        if (id is null || !Uploads.TryGetValue(id, out var upload))
        {
            if (HttpMethods.IsHead(request.Method))
            {
                response.StatusCode = 404;
                return BodyResult.None;
            }

            await ProblemAsync(context, 404, "There is no such upload.");
            return BodyResult.None;
        }

        if (HttpMethods.IsHead(request.Method))
        {
            response.Headers["Upload-Offset"] = upload.Offset.ToString(CultureInfo.InvariantCulture);
            response.Headers["Upload-Length"] = upload.Length.ToString(CultureInfo.InvariantCulture);
            response.Headers.CacheControl = "no-store";
            response.StatusCode = 200;
            return BodyResult.None;
        }

        if (HttpMethods.IsDelete(request.Method))
        {
            Uploads.TryRemove(id, out _);
            response.StatusCode = 204;
            return BodyResult.None;
        }

        if (HttpMethods.IsPatch(request.Method))
        {
            if (headers.GetValueOrDefault("Content-Type") != "application/offset+octet-stream")
            {
                await ProblemAsync(context, 415, "PATCH bodies must be application/offset+octet-stream.");
                return BodyResult.None;
            }

            if (!long.TryParse(headers.GetValueOrDefault("Upload-Offset"), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                await ProblemAsync(context, 400, "Upload-Offset is required.");
                return BodyResult.None;
            }

            if (ConflictsToInject > 0 || offset != upload.Offset)
            {
                ConflictsToInject = Math.Max(0, ConflictsToInject - 1);
                await ProblemAsync(context, 409, $"Upload-Offset {offset} does not match the server's offset {upload.Offset}.");
                return BodyResult.None;
            }

            return await AppendAsync(context, upload, headers, created: false);
        }

        await ProblemAsync(context, 405, "Method not allowed.");
        return BodyResult.None;
    }

    private async Task<BodyResult> CreateAsync(HttpContext context, Dictionary<string, string> headers)
    {
        var concat = headers.GetValueOrDefault("Upload-Concat");
        if (Concatenation && concat is not null && concat.StartsWith("final;", StringComparison.Ordinal))
        {
            await CreateFinalAsync(context, concat["final;".Length..], ParseMetadata(headers));
            return BodyResult.None;
        }

        if (!long.TryParse(headers.GetValueOrDefault("Upload-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            await ProblemAsync(context, 400, "Upload-Length is required.");
            return BodyResult.None;
        }

        if (CreationRefusal is { } refusal)
        {
            await ProblemAsync(context, 403, refusal);
            return BodyResult.None;
        }

        if (length > MaxSize)
        {
            await ProblemAsync(context, 413, "The upload is too large.");
            return BodyResult.None;
        }

        var metadata = ParseMetadata(headers);
        var upload = new FakeUpload { Id = $"up-{Interlocked.Increment(ref _counter)}", Length = length, Metadata = metadata, Partial = Concatenation && concat == "partial" };
        Uploads[upload.Id] = upload;
        context.Response.Headers.Location = LocationOverride ?? $"/api/v1/projects/{Project}/uploads/{upload.Id}";
        context.Response.Headers["Upload-Expires"] = DateTimeOffset.UtcNow.AddDays(1).ToString("R", CultureInfo.InvariantCulture);
        if (headers.GetValueOrDefault("Content-Type") == "application/offset+octet-stream")
        {
            return await AppendAsync(context, upload, headers, created: true);
        }

        context.Response.Headers["Upload-Offset"] = "0";
        context.Response.StatusCode = 201;
        return BodyResult.None;
    }

    private async Task<BodyResult> AppendAsync(HttpContext context, FakeUpload upload, Dictionary<string, string> headers, bool created)
    {
        var chunk = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                chunk.Write(buffer, 0, read);
                long total;
                lock (_gate)
                {
                    Received.Write(buffer, 0, read);
                    total = _received += read;
                }

                if (DropMidBodyAfterBytes is { } drop && total >= drop)
                {
                    DropMidBodyAfterBytes = null;
                    if (PartialBytesKeptOnDrop is { } keep)
                    {
                        upload.Data.Write(chunk.GetBuffer(), 0, (int)Math.Min(keep, chunk.Length));
                    }

                    context.Abort();
                    return new BodyResult(chunk.Length, null);
                }

                if (StallAfterBytes is { } stall && total >= stall)
                {
                    StallAfterBytes = null;
                    Stalled.TrySetResult();
                    // A stalled request may never see the client go away (Kestrel stops reading once its request buffer is full),
                    // so the stall also ends when the test says the client is gone.
                    await Task.WhenAny(Task.Delay(Timeout.Infinite, context.RequestAborted), _stallReleased.Task);
                    context.Abort();
                    throw new OperationCanceledException();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            // The client went away mid-body: with a checksum nothing of the chunk can be kept.
            return new BodyResult(chunk.Length, null);
        }

        bool? matched = null;
        if (headers.TryGetValue("Upload-Checksum", out var checksum))
        {
            var parts = checksum.Split(' ', 2);
            var digest = parts[0] switch
            {
                "sha256" => SHA256.HashData(chunk.ToArray()),
                _ => null,
            };
            matched = digest is not null && parts.Length == 2 && Convert.ToBase64String(digest) == parts[1];
            if (ChecksumMismatchesToInject > 0 || matched == false)
            {
                ChecksumMismatchesToInject = Math.Max(0, ChecksumMismatchesToInject - 1);
                await ProblemAsync(context, 460, "Upload-Checksum does not match the bytes received; nothing was kept.");
                return new BodyResult(chunk.Length, matched);
            }
        }

        if (upload.Offset + chunk.Length > upload.Length)
        {
            await ProblemAsync(context, 413, "The body is longer than the upload still expects.");
            return new BodyResult(chunk.Length, matched);
        }

        upload.Data.Write(chunk.GetBuffer(), 0, (int)chunk.Length);
        if (DropResponseAfterBytes is { } after && ReceivedBytes >= after)
        {
            DropResponseAfterBytes = null;
            context.Abort();
            return new BodyResult(chunk.Length, matched);
        }

        context.Response.Headers["Upload-Offset"] = upload.Offset.ToString(CultureInfo.InvariantCulture);
        if (upload.Offset == upload.Length && !upload.Partial)
        {
            Uploads.TryRemove(upload.Id, out _);
            if (Verify(upload) is { } failure)
            {
                await ProblemAsync(context, 422, failure + " The upload was discarded.");
                return new BodyResult(chunk.Length, matched);
            }

            var fileId = $"f-{upload.Id}";
            Completed.Enqueue((upload, fileId, DateTimeOffset.UtcNow));
            if (SendFileId)
            {
                context.Response.Headers["Upload-File-Id"] = fileId;
            }
        }

        context.Response.StatusCode = created ? 201 : 204;
        return new BodyResult(chunk.Length, matched);
    }

    private static Dictionary<string, string> ParseMetadata(Dictionary<string, string> headers) =>
        headers.GetValueOrDefault("Upload-Metadata", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length == 2 ? Encoding.UTF8.GetString(Convert.FromBase64String(p[1])) : "", StringComparer.Ordinal);

    /// <summary>A final upload: the named partial uploads, finished, in order, verified as one file with the final's metadata.</summary>
    private async Task CreateFinalAsync(HttpContext context, string list, Dictionary<string, string> metadata)
    {
        var prefix = $"/api/v1/projects/{Project}/uploads/";
        var partials = new List<FakeUpload>();
        foreach (var path in list.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal) || !Uploads.TryGetValue(path[prefix.Length..], out var partial) || !partial.Partial || partial.Offset != partial.Length)
            {
                await ProblemAsync(context, 400, $"{path} is not a finished partial upload.");
                return;
            }

            partials.Add(partial);
        }

        var whole = new FakeUpload { Id = $"up-{Interlocked.Increment(ref _counter)}", Length = partials.Sum(p => p.Length), Metadata = metadata };
        foreach (var partial in partials)
        {
            Uploads.TryRemove(partial.Id, out _);
            partial.Data.Position = 0;
            await partial.Data.CopyToAsync(whole.Data);
        }

        if (Verify(whole) is { } failure)
        {
            await ProblemAsync(context, 422, failure + " The upload was discarded.");
            return;
        }

        var fileId = $"f-{whole.Id}";
        Completed.Enqueue((whole, fileId, DateTimeOffset.UtcNow));
        if (DropFinalResponse)
        {
            DropFinalResponse = false;
            context.Abort();
            return;
        }

        context.Response.Headers.Location = $"/api/v1/projects/{Project}/uploads/{whole.Id}";
        if (SendFileId)
        {
            context.Response.Headers["Upload-File-Id"] = fileId;
        }

        context.Response.StatusCode = 201;
    }

    /// <summary>What the real server checks at completion; null when the file passes.</summary>
    private string? Verify(FakeUpload upload)
    {
        byte[] plaintext;
        try
        {
            plaintext = Decrypt(upload);
        }
        catch (Crypt4ghException ex)
        {
            return ex.Kind == Crypt4ghErrorKind.NoMatchingKey ? "The file is encrypted for another key, not this project's." : "The file is not a valid Crypt4GH file: " + ex.Message;
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(plaintext));
        return sha == upload.Metadata.GetValueOrDefault("plaintextSha256") ? null
            : $"The plaintext SHA-256 is {sha}, not the declared {upload.Metadata.GetValueOrDefault("plaintextSha256")}.";
    }

    private static async Task JsonAsync(HttpContext context, object value)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(value));
    }

    private static async Task ProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { status, title = "Refused", detail, code = "fake." + status.ToString(CultureInfo.InvariantCulture) }));
    }

    private readonly record struct BodyResult(long Bytes, bool? ChecksumMatched)
    {
        public static BodyResult None => new(0, null);
    }
}
