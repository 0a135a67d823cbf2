using System.Data.Common;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// Streaming endpoints (<see cref="AuditStreamingAttribute"/>) are not held until their record is written: a
/// <c>stream opened</c> record is durable before the first byte leaves, and a <c>stream closed</c> record follows the last
/// one with the bytes sent, the duration and how the stream ended (SPER-9, TIR-12). The streams are test-only endpoints
/// whose handler each test steps through; the audit export is the product's own streaming endpoint.
/// </summary>
public sealed class StreamingAuditTests(StreamingAuditTests.Host host) : IClassFixture<StreamingAuditTests.Host>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private PermitFixture F => host.Fixture;

    [Fact]
    [Trait("Requirement", "SPER-9")]
    [Trait("Requirement", "TIR-12")]
    public async Task The_opened_record_is_durable_before_the_first_byte_and_the_stream_is_not_held()
    {
        var script = host.Play(new StreamScript(first: 64 * 1024, rest: 4 * 1024 * 1024));
        var watermark = host.Head;
        using var client = await F.Server.ClientForAccountAsync("researcher");

        using var response = await client.GetAsync("/api/v1/test/stream", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        await using var body = await response.Content.ReadAsStreamAsync();
        var firstByte = new byte[1];
        var read = await body.ReadAsync(firstByte).AsTask().WaitAsync(Deadline);
        var handlerStillWriting = !script.Finished;
        var atFirstByte = await StreamRecordsAsync("test.stream", watermark);

        F.Clock.Advance(TimeSpan.FromMilliseconds(1500));
        script.Release();
        var rest = await ReadToEndAsync(body);
        var closed = await ClosedRecordAsync("test.stream", watermark);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, read);
        Assert.True(handlerStillWriting, "the first byte arrived only after the handler finished: the stream was held");
        var opened = Assert.Single(atFirstByte);
        Assert.Equal("opened", Detail(opened, "stream"));
        Assert.Equal("success", opened.Outcome);
        Assert.Equal(200, opened.HttpStatus);
        Assert.Equal("researcher", opened.ActorUsername);
        Assert.Equal(script.Total - 1, rest);
        Assert.Equal(opened.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Detail(closed, "opened"));
        Assert.Equal(script.Total.ToString(System.Globalization.CultureInfo.InvariantCulture), Detail(closed, "bytes"));
        Assert.Equal("1500", Detail(closed, "durationMs"));
        Assert.Equal("completed", Detail(closed, "end"));
        Assert.Equal("success", closed.Outcome);
        Assert.Equal(opened.TraceId, closed.TraceId);
        Assert.Equal(2, (await RecordsAsync("test.stream", watermark)).Count);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task A_client_that_goes_away_is_recorded_with_the_bytes_that_left()
    {
        var script = host.Play(new StreamScript(first: 10_000, rest: 10_000));
        var watermark = host.Head;
        using var client = await F.Server.ClientForAccountAsync("researcher");

        using (var response = await client.GetAsync("/api/v1/test/stream", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline))
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            await body.ReadExactlyAsync(new byte[10_000]).AsTask().WaitAsync(Deadline);
        }

        var closed = await ClosedRecordAsync("test.stream", watermark);

        Assert.Equal("client-aborted", Detail(closed, "end"));
        Assert.Equal("10000", Detail(closed, "bytes"));
        Assert.Equal("error", closed.Outcome);
        Assert.False(script.Finished);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task A_stream_whose_handler_fails_is_recorded_as_failed_with_its_bytes()
    {
        var script = host.Play(new StreamScript(first: 5_000, rest: 5_000) { Fail = true });
        var watermark = host.Head;
        using var client = await F.Server.ClientForAccountAsync("researcher");

        using var response = await client.GetAsync("/api/v1/test/stream", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        await using var body = await response.Content.ReadAsStreamAsync();
        await body.ReadExactlyAsync(new byte[5_000]).AsTask().WaitAsync(Deadline);
        script.Release();
        var cut = await Record.ExceptionAsync(() => ReadToEndAsync(body));
        var closed = await ClosedRecordAsync("test.stream", watermark);

        Assert.NotNull(cut);
        Assert.Equal("failed", Detail(closed, "end"));
        Assert.Equal("5000", Detail(closed, "bytes"));
        Assert.Equal("error", closed.Outcome);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_cuts_a_project_stream_and_its_closed_record_says_so()
    {
        var (_, projectId) = await F.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-STREAM-HALT"));
        host.Play(new StreamScript(first: 8_000, rest: 8_000));
        var watermark = host.Head;
        using var client = await F.Server.ClientForAccountAsync("researcher");

        using var response = await client.GetAsync($"/api/v1/projects/{projectId}/test-stream", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        await using var body = await response.Content.ReadAsStreamAsync();
        await body.ReadExactlyAsync(new byte[8_000]).AsTask().WaitAsync(Deadline);
        var halt = await F.PostAsAsync("operator", "/api/v1/halts", new { projectId, reason = "suspected exfiltration" });
        var cut = await Record.ExceptionAsync(() => ReadToEndAsync(body));
        var closed = await ClosedRecordAsync("test.project-stream", watermark);

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.NotNull(cut);
        Assert.Equal("halted", Detail(closed, "end"));
        Assert.Equal("8000", Detail(closed, "bytes"));
        Assert.Equal("denied", closed.Outcome);
        Assert.Equal(projectId, closed.ProjectId);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "SPER-9")]
    public async Task A_stream_is_refused_and_sends_nothing_when_its_opened_record_cannot_be_written()
    {
        var script = host.Play(new StreamScript(first: 1_000, rest: 0));
        using var client = await F.Server.ClientForAccountAsync("researcher");
        // Note: counted by action, not by all records: the class shares one server, and a record of another kind (a
        // sign-in's, a background one) committed in between made a count of every record one too many.
        var before = host.Head;

        HttpResponseMessage refused;
        await using (await HoldWriteLockAsync())
        {
            refused = await client.GetAsync("/api/v1/test/stream").WaitAsync(Deadline);
        }

        host.Play(new StreamScript(first: 1_000, rest: 0));
        var watermark = host.Head;
        using var recovered = await client.GetAsync("/api/v1/test/stream").WaitAsync(Deadline);
        // Note: the closed record follows the last byte; waiting for it keeps it out of the next test's records.
        await ClosedRecordAsync("test.stream", watermark);
        var streamRecords = await RecordsAsync("test.stream", before);

        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("SPE2100", problem.GetProperty("code").GetString());
        Assert.True(script.WriteAttempted, "the handler never tried to write, so the refusal proves nothing");
        // Only the recovered stream's opened and closed records: none for the refused one, then or after the lock was let go.
        Assert.Equal(["opened", "closed"], streamRecords.OrderBy(r => r.Sequence).Select(r => Detail(r, "stream")));
        Assert.All(streamRecords, r => Assert.True(r.Sequence > watermark));
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(1_000, (await recovered.Content.ReadAsByteArrayAsync()).Length);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    [Trait("Requirement", "TIR-12")]
    public async Task An_error_answer_of_a_streaming_endpoint_is_held_and_recorded_like_any_other()
    {
        host.Play(new StreamScript(first: 1_000, rest: 0) { RefuseWith = StatusCodes.Status409Conflict });
        var watermark = host.Head;
        using var client = await F.Server.ClientForAccountAsync("researcher");

        using var response = await client.GetAsync("/api/v1/test/stream").WaitAsync(Deadline);
        var records = await RecordsAsync("test.stream", watermark);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var record = Assert.Single(records);
        Assert.Equal(409, record.HttpStatus);
        Assert.Equal("denied", record.Outcome);
        Assert.Null(Detail(record, "stream"));
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task The_audit_export_is_streamed_between_an_opened_and_a_closed_record()
    {
        var watermark = host.Head;
        using var auditor = await F.Server.ClientForAccountAsync("auditor");

        using var export = await auditor.GetAsync("/api/v1/audit/export?format=jsonl").WaitAsync(Deadline);
        var bytes = await export.Content.ReadAsByteArrayAsync();
        var closed = await ClosedRecordAsync("audit.export", watermark);
        using var invalid = await auditor.GetAsync("/api/v1/audit/export?format=xml").WaitAsync(Deadline);
        var afterInvalid = (await RecordsAsync("audit.export", watermark)).Where(r => r.Sequence > closed.Sequence).ToList();

        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Detail(closed, "bytes"));
        Assert.Equal("completed", Detail(closed, "end"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var refusal = Assert.Single(afterInvalid);
        Assert.Null(Detail(refusal, "stream"));
        await AssertChainVerifiesAsync();
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task A_server_sent_event_stream_is_opened_when_its_headers_go_out_before_any_event()
    {
        var script = host.Play(new StreamScript(first: 0, rest: 40) { EventStream = true });
        var watermark = host.Head;
        using var client = await F.Server.ClientForAccountAsync("researcher");

        using var response = await client.GetAsync("/api/v1/test/stream", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        var atHeaders = await StreamRecordsAsync("test.stream", watermark);
        var handlerStillWriting = !script.Finished;
        script.Release();
        var events = await response.Content.ReadAsByteArrayAsync();
        var closed = await ClosedRecordAsync("test.stream", watermark);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(handlerStillWriting);
        Assert.Equal("opened", Detail(Assert.Single(atHeaders), "stream"));
        Assert.Equal(40, events.Length);
        Assert.Equal("40", Detail(closed, "bytes"));
        Assert.Equal("completed", Detail(closed, "end"));
    }

    [Fact]
    [Trait("Requirement", "SPER-9")]
    public async Task A_WebSocket_is_opened_before_the_upgrade_is_answered_and_closed_with_the_bytes_it_sent()
    {
        var script = host.Play(new StreamScript(first: 1_000, rest: 0));
        var watermark = host.Head;
        var token = await F.Server.TokenForAccountAsync("researcher");
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(certificate.GetRawCertData())) == F.Server.Info.CertificateFingerprint;

        await socket.ConnectAsync(new Uri($"wss://{F.Server.BaseAddress.Authority}/api/v1/test/ws"), TestContext.Current.CancellationToken).WaitAsync(Deadline);
        var atUpgrade = await StreamRecordsAsync("test.ws", watermark);
        script.Release();
        var received = 0;
        var buffer = new byte[4096];
        System.Net.WebSockets.WebSocketReceiveResult result;
        while ((result = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken).WaitAsync(Deadline)).MessageType != System.Net.WebSockets.WebSocketMessageType.Close)
        {
            received += result.Count;
        }

        await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
        var closed = await ClosedRecordAsync("test.ws", watermark);

        var opened = Assert.Single(atUpgrade);
        Assert.Equal("opened", Detail(opened, "stream"));
        Assert.Equal(101, opened.HttpStatus);
        Assert.Equal(1_000, received);
        // On the wire: the binary frame (2 + 2 header bytes, 1,000 payload) and the close frame (2 header, 2 status, "done").
        Assert.Equal("1012", Detail(closed, "bytes"));
        Assert.Equal("completed", Detail(closed, "end"));
        Assert.Equal(opened.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Detail(closed, "opened"));
        await AssertChainVerifiesAsync();
    }

    private static async Task<long> ReadToEndAsync(Stream body)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer).AsTask().WaitAsync(Deadline)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static string? Detail(AuditRow row, string key) =>
        JsonDocument.Parse(row.DetailsJson).RootElement.TryGetProperty(key, out var value) ? value.GetString() : null;

    private async Task<List<AuditRow>> RecordsAsync(string action, long after) =>
        await F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: action, AfterSequence: after));

    private async Task<List<AuditRow>> StreamRecordsAsync(string action, long after) =>
        (await RecordsAsync(action, after)).Where(r => Detail(r, "stream") is not null).ToList();

    /// <summary>The closed record is written after the last byte left, so the client may see the end first: wait for it.</summary>
    private async Task<AuditRow> ClosedRecordAsync(string action, long after)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var closed = (await RecordsAsync(action, after)).SingleOrDefault(r => Detail(r, "stream") == "closed");
            if (closed is not null)
            {
                return closed;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no closed record for {action}");
            await Task.Delay(20);
        }
    }

    private async Task AssertChainVerifiesAsync()
    {
        var verification = await F.Server.Services.GetRequiredService<AuditService>().VerifyAsync();
        Assert.True(verification.Valid, verification.Message);
    }

    /// <summary>Blocks the audit store for real, as <see cref="FailClosedTests"/> does: another connection holds SQLite's write lock.</summary>
    private async Task<IAsyncDisposable> HoldWriteLockAsync()
    {
        var connection = await F.Server.Database.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO server_settings (name, value) VALUES ('lock-holder', 'x')";
        await command.ExecuteNonQueryAsync();
        return new LockHolder(connection, transaction);
    }

    /// <summary>One server for the class with the test streams mapped; each test hands it the script its stream follows.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private StreamScript _script = new(0, 0);

        public PermitFixture Fixture { get; private set; } = null!;

        public long Head => Fixture.Server.Services.GetRequiredService<AuditWriter>().HeadSequence;

        public StreamScript Play(StreamScript script) => _script = script;

        public async ValueTask InitializeAsync()
        {
            Fixture = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Database:SqliteBusyTimeoutMilliseconds"] = "200" }, map: app =>
            {
                // After the audit middleware, as the WebSocket middleware must be (it takes the upgrade feature it finds).
                app.UseWebSockets();
                app.MapGet("/api/v1/test/stream", (HttpContext context) => _script.RunAsync(context)).WithName("test.stream").WithAuditStreaming();
                app.MapGet("/api/v1/test/ws", (HttpContext context) => _script.RunWebSocketAsync(context)).WithName("test.ws").WithAuditStreaming();
                app.MapGet("/api/v1/projects/{projectId}/test-stream", (HttpContext context) => _script.RunAsync(context)).WithName("test.project-stream")
                    .WithMetadata(new ProjectActionAttribute("project.test-stream", SpeRoles.Researcher)).WithAuditStreaming();
            });
            await Fixture.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));
        }

        public async ValueTask DisposeAsync()
        {
            _script.Release();
            await Fixture.DisposeAsync();
        }
    }

    /// <summary>What a test stream does: send <c>first</c> bytes and flush, wait for the test, then send <c>rest</c> bytes (or fail).</summary>
    public sealed class StreamScript(int first, int rest)
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _finished;
        private volatile bool _writeAttempted;

        public int Total => first + rest;

        public bool Fail { get; init; }

        public int? RefuseWith { get; init; }

        /// <summary>As a server-sent event stream: headers first (no body), then <c>rest</c> bytes of events.</summary>
        public bool EventStream { get; init; }

        public bool Finished => _finished;

        public bool WriteAttempted => _writeAttempted;

        public void Release() => _release.TrySetResult();

        public async Task RunAsync(HttpContext context)
        {
            if (RefuseWith is { } status)
            {
                context.Response.StatusCode = status;
                await context.Response.WriteAsync("refused by the test", context.RequestAborted);
                return;
            }

            if (EventStream)
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.StartAsync(context.RequestAborted);
                await _release.Task.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync(string.Concat(Enumerable.Repeat("data: tick\n\n", rest / 12)) + new string('\n', rest % 12), context.RequestAborted);
                _finished = true;
                return;
            }

            context.Response.ContentType = "application/octet-stream";
            _writeAttempted = true;
            await context.Response.Body.WriteAsync(new byte[first], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (rest > 0)
            {
                await _release.Task.WaitAsync(context.RequestAborted);
                if (Fail)
                {
                    throw new InvalidOperationException("the test stream fails here");
                }

                await context.Response.Body.WriteAsync(new byte[rest], context.RequestAborted);
            }

            _finished = true;
        }

        /// <summary>Accepts a WebSocket, waits for the test, sends one binary message of <c>first</c> bytes and closes.</summary>
        public async Task RunWebSocketAsync(HttpContext context)
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await _release.Task.WaitAsync(context.RequestAborted);
            await socket.SendAsync(new byte[first], System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: true, context.RequestAborted);
            await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", context.RequestAborted);
            _finished = true;
        }
    }

    private sealed class LockHolder(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
