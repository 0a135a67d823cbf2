using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Counts the calls this node makes to one peer as a coordinator (TIR-34): each call once, when it ends, by method and status
/// with its duration, and the serialized bytes of every message sent and received (unary and stream messages alike); and
/// records each stream message in the audit log (TIR-33) with what the calls are for (<paramref name="scope"/>): one read
/// is handed on only once recorded, one written is sent only once recorded.
/// </summary>
/// <remarks>
/// Note: a call ends when its answer or status arrives, when its response stream is read to the end or fails, or when the caller
/// disposes of it before that (counted as <c>Cancelled</c>, because the caller gave up on it); whichever comes first counts.
/// </remarks>
internal sealed class FederationClientInterceptor(FederationMetrics metrics, FederationAudit audit, string peer, FederationCallScope scope) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var end = new CallEnd(metrics, audit, scope, peer, context.Method.FullName);
        var call = continuation(request, context);
        metrics.ClientSent(peer, end.Method, Size(request));
        return new AsyncUnaryCall<TResponse>(AnswerAsync(call.ResponseAsync, end), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, () =>
        {
            end.Record(StatusCode.Cancelled);
            call.Dispose();
        });
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var end = new CallEnd(metrics, audit, scope, peer, context.Method.FullName);
        var call = continuation(request, context);
        metrics.ClientSent(peer, end.Method, Size(request));
        return new AsyncServerStreamingCall<TResponse>(new ObservedReader<TResponse>(call.ResponseStream, end), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, () =>
        {
            end.Record(StatusCode.Cancelled);
            call.Dispose();
        });
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context,
        AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var end = new CallEnd(metrics, audit, scope, peer, context.Method.FullName);
        var call = continuation(context);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(new CountedWriter<TRequest>(call.RequestStream, end), new ObservedReader<TResponse>(call.ResponseStream, end),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, () =>
            {
                end.Record(StatusCode.Cancelled);
                call.Dispose();
            });
    }

    /// <summary>A message's serialized size (the gRPC frame's payload, as the served side counts it).</summary>
    internal static int Size(object? message) => message is IMessage m ? m.CalculateSize() : 0;

    private static async Task<TResponse> AnswerAsync<TResponse>(Task<TResponse> answer, CallEnd end)
    {
        try
        {
            var response = await answer;
            end.Received(Size(response));
            end.Record(StatusCode.OK);
            return response;
        }
        catch (RpcException ex)
        {
            end.Record(ex.StatusCode);
            throw;
        }
    }

    /// <summary>One call's end, counted once, and its stream messages.</summary>
    private sealed class CallEnd(FederationMetrics metrics, FederationAudit audit, FederationCallScope scope, string peer, string method)
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private int _recorded;
        private long _sentMessages;
        private long _receivedMessages;

        public string Method => method;

        /// <summary>Records a stream message in the audit log.</summary>
        public Task AuditAsync(string direction, long bytes) => audit.SentMessageAsync(scope, peer, method, direction,
            Interlocked.Increment(ref direction == "sent" ? ref _sentMessages : ref _receivedMessages), bytes);

        public void Sent(long bytes) => metrics.ClientSent(peer, method, bytes);

        public void Received(long bytes) => metrics.ClientReceived(peer, method, bytes);

        public void Record(StatusCode status)
        {
            if (Interlocked.Exchange(ref _recorded, 1) == 0)
            {
                metrics.ClientCall(peer, method, status == StatusCode.OK ? "OK" : status.ToString(), Stopwatch.GetElapsedTime(_started));
            }
        }
    }

    /// <summary>A response stream that counts each message and ends the call when it is read to its end or fails.</summary>
    private sealed class ObservedReader<T>(IAsyncStreamReader<T> inner, CallEnd end) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            bool moved;
            try
            {
                moved = await inner.MoveNext(cancellationToken);
            }
            catch (RpcException ex)
            {
                end.Record(ex.StatusCode);
                throw;
            }
            catch (OperationCanceledException)
            {
                end.Record(StatusCode.Cancelled);
                throw;
            }

            if (moved)
            {
                var size = Size(inner.Current);
                end.Received(size);
                await end.AuditAsync("received", size);
            }
            else
            {
                end.Record(StatusCode.OK);
            }

            return moved;
        }
    }

    /// <summary>A request stream that counts each message once it is written.</summary>
    private sealed class CountedWriter<T>(IClientStreamWriter<T> inner, CallEnd end) : IClientStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task CompleteAsync() => inner.CompleteAsync();

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            var size = Size(message);
            await end.AuditAsync("sent", size);
            // Note: the inner writer's own overload, because the interface's default one refuses a token that can be cancelled.
            await inner.WriteAsync(message, cancellationToken);
            end.Sent(size);
        }
    }
}
