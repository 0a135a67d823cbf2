using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Grpc.Core;
using Google.Protobuf;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Federation;

/// <summary>What one federation call is about, filled in by the service as it learns it, recorded by the interceptor.</summary>
internal sealed class FederationCall(string peer, EndPoint? remote, string? thumbprint, string method)
{
    public const string Key = "openspe.federation.call";

    public string Peer { get; } = peer;

    public EndPoint? Remote { get; } = remote;

    public string? Thumbprint { get; } = thumbprint;

    public string Method { get; } = method;

    public string? Permit { get; set; }

    public string? Component { get; set; }

    public string? Requester { get; set; }

    public string? TaskId { get; set; }

    public string? Reason { get; set; }

    /// <summary>The call of a service context (set by the interceptor before the service runs).</summary>
    public static FederationCall Of(ServerCallContext context) => (FederationCall)context.UserState[Key];
}

/// <summary>
/// Runs around every federation call (TIR-31, TIR-33, TIR-35, TIR-36): admits the peer's certificate again (the one its connection
/// presented at the handshake) against the current revocation list and clock, refusing it with UNAUTHENTICATED when it is no longer
/// admitted, names the peer by it, requires
/// a deadline no longer than <see cref="FederationOptions.MaxDeadline"/>, takes from the peer's call rate and, for streams, its
/// stream cap (RESOURCE_EXHAUSTED otherwise), writes the call's audit record (peer certificate, permit, component, requester,
/// status) before the answer's end leaves, and a record of each stream message: one read is handed to the service only once
/// recorded, one written leaves only once recorded.
/// </summary>
internal sealed class FederationCallInterceptor(FederationPeerAdmission admission, FederationPeerLimits limits, FederationAudit audit, FederationMetrics metrics, IOptions<FederationOptions> options,
    Microsoft.Extensions.Logging.ILogger<FederationCallInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RunAsync(context, stream: false, async (call, _) =>
        {
            metrics.Received(call.Peer, call.Method, Size(request));
            var response = await continuation(request, context);
            metrics.Sent(call.Peer, call.Method, Size(response));
            return response;
        });
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RunAsync(context, stream: true, async (call, cut) =>
        {
            metrics.Received(call.Peer, call.Method, Size(request));
            var sent = 0L;
            await continuation(request, new CountingWriter<TResponse>(responseStream, bytes => audit.ServedMessageAsync(call, "sent", ++sent, bytes),
                bytes => metrics.Sent(call.Peer, call.Method, bytes), cut), context);
            return true;
        });
    }

    // Note: the service has no client-streaming method today; this override exists so one added later cannot skip the admission
    // and the records, which the base class would let it do.
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RunAsync(context, stream: true, async (call, cut) =>
        {
            var received = 0L;
            var response = await continuation(new CountingReader<TRequest>(requestStream, bytes =>
            {
                metrics.Received(call.Peer, call.Method, bytes);
                return audit.ServedMessageAsync(call, "received", ++received, bytes);
            }, cut), context);
            metrics.Sent(call.Peer, call.Method, Size(response));
            return response;
        });
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RunAsync(context, stream: true, async (call, cut) =>
        {
            // Note: a stream's reads and writes each come one at a time (gRPC allows one pending of each), so the counters need no lock.
            var (received, sent) = (0L, 0L);
            await continuation(new CountingReader<TRequest>(requestStream, bytes =>
                {
                    metrics.Received(call.Peer, call.Method, bytes);
                    return audit.ServedMessageAsync(call, "received", ++received, bytes);
                }, cut),
                new CountingWriter<TResponse>(responseStream, bytes => audit.ServedMessageAsync(call, "sent", ++sent, bytes), bytes => metrics.Sent(call.Peer, call.Method, bytes), cut),
                context);
            return true;
        });
    }

    /// <summary>A message's serialized size (the gRPC frame's payload; framing, HTTP/2 and TLS overhead are not counted).</summary>
    private static int Size(object? message) => message is IMessage m ? m.CalculateSize() : 0;

    private async Task<T> RunAsync<T>(ServerCallContext context, bool stream, Func<FederationCall, CancellationToken, Task<T>> handler)
    {
        var http = context.GetHttpContext();
        // Note: every path below writes the call's record, so the listener's fallback (for calls gRPC ends before this runs) must not.
        http.Items[FederationUnrecordedCalls.Recorded] = true;
        var certificate = http.Connection.ClientCertificate;
        var method = context.Method;
        var remote = http.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, http.Connection.RemotePort) : null;
        // Note: the whole admission again on every call, because an HTTP/2 connection outlives its handshake (keepalive, no
        // lifetime): a certificate revoked (the list is re-read when its file changes, as at a handshake) or expired since then
        // must not keep calling over the connection it opened before.
        var admitted = admission.Admit(certificate);
        if (!admitted.Admitted || admitted.Peer is not { } peer)
        {
            var reason = admitted.Refusal ?? PeerRefusalReasons.NoName;
            metrics.Refused(admitted.Peer, reason);
            // Note: not cancelled with the call, because the refusal must be on record whether or not the peer waits for it.
            await audit.RefusedAsync(admitted.Peer, remote, reason, "call", CancellationToken.None);
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"{ErrorCodes.FederationPeerNotAdmitted} {reason}"),
                new Metadata { { "spe-code", ErrorCodes.FederationPeerNotAdmitted } });
        }

        var call = new FederationCall(peer, remote, certificate!.GetCertHashString(HashAlgorithmName.SHA256), method);
        context.UserState[FederationCall.Key] = call;
        // Note: the system clock, because the deadline arrives relative (grpc-timeout) and the gRPC server made it absolute with it.
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        if (context.Deadline == DateTime.MaxValue || context.Deadline - now > options.Value.MaxDeadline)
        {
            throw Refuse(peer, remote, StatusCode.InvalidArgument, ErrorCodes.FederationDeadline, $"every call needs a deadline of at most {options.Value.MaxDeadline}");
        }

        if (!limits.TryCall(peer))
        {
            throw Refuse(peer, remote, StatusCode.ResourceExhausted, ErrorCodes.FederationExhausted, "this peer's call rate is at its limit");
        }

        using var streamLease = stream ? limits.TryOpenStream(peer) : null;
        if (stream && streamLease is null)
        {
            throw Refuse(peer, remote, StatusCode.ResourceExhausted, ErrorCodes.FederationExhausted, "this peer holds its maximum of open streams");
        }

        var started = Stopwatch.GetTimestamp();
        using var guard = stream ? new StreamGuard(context.CancellationToken) : null;
        var watching = guard is null ? Task.CompletedTask : WatchAdmissionAsync(certificate!, call, guard, http);
        try
        {
            var result = await handler(call, guard?.Cut.Token ?? CancellationToken.None);
            await EndAsync(call, StatusCode.OK, started);
            return result;
        }
        catch (Exception) when (guard?.Refusal is { } refusal)
        {
            // Note: whatever the service made of the cut (a cancellation, its own status for it, or the reset stream), the peer learns
            // the reason when it can still be told.
            call.Reason = $"{ErrorCodes.FederationPeerNotAdmitted} {refusal} (stream cut)";
            await EndAsync(call, StatusCode.Unauthenticated, started);
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"{ErrorCodes.FederationPeerNotAdmitted} {refusal}"),
                new Metadata { { "spe-code", ErrorCodes.FederationPeerNotAdmitted } });
        }
        catch (RpcException ex)
        {
            call.Reason ??= ex.Status.Detail;
            await EndAsync(call, ex.StatusCode, started);
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            call.Reason ??= "cancelled by the peer or its deadline";
            await EndAsync(call, StatusCode.Cancelled, started);
            throw;
        }
        finally
        {
            if (guard is not null)
            {
                await guard.Done.CancelAsync();
                await watching;
            }
        }
    }

    /// <summary>
    /// Judges the certificate of a peer with a stream open again every <see cref="FederationOptions.StreamRecheckInterval"/>, and
    /// cuts the stream (audited as a refusal at stage <c>stream</c>) once it is no longer admitted: revoked, expired, or its CA's
    /// list unusable.
    /// </summary>
    /// <remarks>
    /// Note: a timer rather than a check per message, because a stream can sit between messages for as long as its deadline (an
    /// hour at most) while the task behind it goes on, and a revoked peer must not receive what it produces then either.
    /// </remarks>
    private async Task WatchAdmissionAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, FederationCall call, StreamGuard guard,
        Microsoft.AspNetCore.Http.HttpContext http)
    {
        try
        {
            while (true)
            {
                await Task.Delay(options.Value.StreamRecheckInterval, guard.Done.Token);
                var again = admission.Admit(certificate);
                if (!again.Admitted)
                {
                    var reason = again.Refusal ?? PeerRefusalReasons.NoName;
                    metrics.Refused(call.Peer, reason);
                    FederationLog.StreamCut(logger, call.Method, call.Peer, reason);
                    await audit.RefusedAsync(call.Peer, call.Remote, reason, "stream", CancellationToken.None);
                    guard.Refusal = reason;
                    await guard.Cut.CancelAsync();
                    // Note: the cut reaches the service at its next read or write; one waiting for its task's next event (a long
                    // computation) is not in either, so the stream is reset if it has not ended by the next check.
                    await Task.Delay(options.Value.StreamRecheckInterval, guard.Done.Token);
                    http.Abort();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (guard.Done.IsCancellationRequested)
        {
            // The call ended first.
        }
    }

    /// <summary>One guarded stream: the token its service sees (the call's own, and the cut), and why it was cut.</summary>
    private sealed class StreamGuard(CancellationToken call) : IDisposable
    {
        public CancellationTokenSource Cut { get; } = CancellationTokenSource.CreateLinkedTokenSource(call);

        public CancellationTokenSource Done { get; } = new();

        public volatile string? Refusal;

        public void Dispose()
        {
            Cut.Dispose();
            Done.Dispose();
        }
    }

    private async Task EndAsync(FederationCall call, StatusCode status, long started)
    {
        var name = status == StatusCode.OK ? "OK" : status.ToString();
        metrics.Call(call.Peer, call.Method, name, Stopwatch.GetElapsedTime(started));
        FederationLog.Call(logger, call.Method, call.Peer, name);
        var denied = IsDenied(status);
        // Note: not cancelled with the call, because a record of a call the peer abandoned must still be written.
        await audit.CallAsync(new FederationCallRecord(call.Peer, call.Remote, call.Thumbprint, call.Method, name, denied, call.Permit, call.Component, call.Requester,
            call.TaskId, call.Reason), CancellationToken.None);
    }

    /// <summary>Whether a call that ended with <paramref name="status"/> was refused (its record's outcome is denied, not error).</summary>
    public static bool IsDenied(StatusCode status) => status is StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition
        or StatusCode.ResourceExhausted or StatusCode.InvalidArgument or StatusCode.NotFound;

    private RpcException Refuse(string? peer, EndPoint? remote, StatusCode status, string code, string message)
    {
        metrics.Refused(peer ?? "unknown", code);
        audit.Refused(peer, remote, code + " " + message, "call");
        return new RpcException(new Status(status, $"{code} {message}"), new Metadata { { "spe-code", code } });
    }
}

/// <summary>
/// A stream reader that counts each message's serialized size as it is read (TIR-34) and hands it on only once
/// <paramref name="observe"/> (its audit record, TIR-33) is done.
/// </summary>
internal sealed class CountingReader<T>(IAsyncStreamReader<T> inner, Func<long, Task> observe, CancellationToken cut) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cut);
        var moved = await inner.MoveNext(either.Token);
        if (moved)
        {
            await observe(inner.Current is IMessage message ? message.CalculateSize() : 0);
        }

        return moved;
    }
}

/// <summary>
/// A stream writer that writes a message only once <paramref name="before"/> (its audit record, TIR-33) is done, so nothing
/// leaves unrecorded, and counts its serialized size once it is written (TIR-34).
/// </summary>
internal sealed class CountingWriter<T>(IServerStreamWriter<T> inner, Func<long, Task> before, Action<long> count, CancellationToken cut) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        var size = message is IMessage m ? m.CalculateSize() : 0;
        cut.ThrowIfCancellationRequested();
        await before(size);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cut);
        // Note: the inner writer's own overload, because the interface's default one refuses a token that can be cancelled.
        await inner.WriteAsync(message, either.Token);
        count(size);
    }
}
