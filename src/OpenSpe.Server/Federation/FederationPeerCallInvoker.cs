using Grpc.Core;
using Grpc.Net.Client;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A call invoker that takes the channel for each call from <paramref name="channel"/> when the call starts, so a client kept across
/// calls (a GLM's rounds) never uses a channel <see cref="FederationPeerChannels"/> has closed.
/// </summary>
internal sealed class FederationPeerCallInvoker(Func<GrpcChannel> channel) : CallInvoker
{
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        Start(invoker => invoker.BlockingUnaryCall(method, host, options, request));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        Start(invoker => invoker.AsyncUnaryCall(method, host, options, request));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options,
        TRequest request) =>
        Start(invoker => invoker.AsyncServerStreamingCall(method, host, options, request));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
        CallOptions options) =>
        Start(invoker => invoker.AsyncClientStreamingCall(method, host, options));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
        CallOptions options) =>
        Start(invoker => invoker.AsyncDuplexStreamingCall(method, host, options));

    private T Start<T>(Func<CallInvoker, T> start)
    {
        try
        {
            return start(channel().CreateCallInvoker());
        }
        catch (ObjectDisposedException)
        {
            // Note: the channel was closed between being handed out and the call's start (its peer was refused just then, or the
            // node is stopping); the caller sees it as the transport failure it is, not as a fault of its own.
            throw new RpcException(new Status(StatusCode.Unavailable, "the channel to the peer was closed"));
        }
    }
}
