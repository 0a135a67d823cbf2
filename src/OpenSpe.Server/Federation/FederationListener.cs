using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federation listener (TIR-29, TIR-30, TIR-31): a host of its own beside the API, on <see cref="FederationOptions.Listen"/>,
/// serving only <c>openspe.federation.v1.Federation</c> — HTTP/2 only, TLS 1.3 only, a client certificate required and admitted
/// at the handshake by <see cref="FederationPeerAdmission"/> (refusals audited). The API's pipeline, routes and tokens are not
/// reachable through it, and the federation service is not reachable through the API's listener.
/// </summary>
internal sealed class FederationListener(IServiceProvider services, IOptions<FederationOptions> options, FederationNodeIdentity node, FederationPeerAdmission admission,
    FederationAudit audit, FederationMetrics metrics, ILogger<FederationListener> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The address the listener is bound to (with the port it got), once started.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var endpoint = ParseListen(o.Listen!);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(FederationListener).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.Http2.KeepAlivePingDelay = o.KeepAlivePing;
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
            kestrel.Limits.Http2.MaxStreamsPerConnection = o.PeerMaxStreams + 8;
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                // Note: this middleware runs around the TLS handshake, so the admission decision can name the connection's
                // address, and a handshake that ended without a decision (no certificate, no TLS) is audited as well.
                listen.Use(next => async connection =>
                {
                    var handshake = new Handshake(connection.RemoteEndPoint);
                    Current.Value = handshake;
                    await next(connection);
                    if (!handshake.Decided)
                    {
                        Refuse(null, handshake.Remote, PeerRefusalReasons.NoCertificate);
                    }
                });
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = node.Certificate;
                    // Note: TLS 1.3 only, because both ends are SPEs of this project: no older client needs 1.2 here.
                    https.SslProtocols = SslProtocols.Tls13;
                    https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                    https.CheckCertificateRevocation = false;
                    https.OnAuthenticate = TlsPolicy.Apply;
                    // Note: the peer is decided here, before any HTTP/2 frame is read, so a refused peer reaches no code of the
                    // service; the decision replaces the system's chain check, which would accept any CA the machine trusts.
                    https.ClientCertificateValidation = (certificate, _, _) => Admit(certificate, Current.Value);
                });
            });
        });
        builder.Services.AddSingleton(services.GetRequiredService<ILoggerFactory>());
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = o.MaxMessageBytes;
            grpc.MaxSendMessageSize = o.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<FederationCallInterceptor>();
        });
        // The service and the interceptor are the main host's singletons, so tasks, limits and records are the server's own.
        builder.Services.AddSingleton(services.GetRequiredService<FederationGrpcService>());
        builder.Services.AddSingleton(services.GetRequiredService<FederationCallInterceptor>());
        var app = builder.Build();
        // Note: around the gRPC endpoint, because gRPC reads a unary call's request (and refuses one over MaxMessageBytes) before
        // the interceptor runs; such a call is recorded here instead.
        var unrecorded = new FederationUnrecordedCalls(admission, audit, metrics, logger);
        app.Use(unrecorded.InvokeAsync);
        app.MapGrpcService<FederationGrpcService>();
        await app.StartAsync(cancellationToken);
        _app = app;
        var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = bound is null ? null : new Uri(bound);
        FederationLog.Listening(logger, bound ?? o.Listen!, node.Name);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private bool Admit(X509Certificate? certificate, Handshake? handshake)
    {
        var decision = admission.Admit(certificate);
        if (handshake is not null)
        {
            handshake.Decided = true;
        }

        if (!decision.Admitted)
        {
            Refuse(decision.Peer, handshake?.Remote, decision.Refusal!);
        }

        return decision.Admitted;
    }

    private void Refuse(string? peer, EndPoint? remote, string reason)
    {
        metrics.Refused(peer, reason);
        audit.Refused(peer, remote, reason, "handshake");
    }

    private static readonly AsyncLocal<Handshake?> Current = new();

    private sealed class Handshake(EndPoint? remote)
    {
        public EndPoint? Remote { get; } = remote;

        public bool Decided { get; set; }
    }

    /// <summary>Reads <c>host:port</c> (or an https URL) into an endpoint.</summary>
    public static IPEndPoint ParseListen(string listen)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(listen);
        var text = listen.Contains("://", StringComparison.Ordinal) ? new Uri(listen).Authority : listen;
        return IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port is >= 0 and <= 65535
            ? endpoint
            : throw new FormatException($"Federation:Listen '{listen}' is not an address:port");
    }
}
