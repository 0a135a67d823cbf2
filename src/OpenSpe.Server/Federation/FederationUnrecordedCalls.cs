using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Records the federation calls that ended before <see cref="FederationCallInterceptor"/> ran (TIR-33, TIR-36): gRPC reads a unary
/// call's request before it calls any interceptor, so a request over <see cref="FederationOptions.MaxMessageBytes"/> (or one it
/// cannot read, or a method the service does not have) is refused by gRPC itself; this writes that call's record and counts it
/// as a refusal of the peer, as the interceptor does for the calls it sees.
/// </summary>
internal sealed class FederationUnrecordedCalls(FederationPeerAdmission admission, FederationAudit audit, FederationMetrics metrics, ILogger logger)
{
    /// <summary>The key of <see cref="HttpContext.Items"/> the interceptor sets on a call it records.</summary>
    public const string Recorded = "openspe.federation.recorded";

    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(next);
        var started = Stopwatch.GetTimestamp();
        await next(http);
        if (http.Items.ContainsKey(Recorded) || Status(http) is not { } status || status == StatusCode.OK)
        {
            return;
        }

        // Note: the connection's certificate was admitted at its handshake; judged again only to name the peer in the record.
        var certificate = http.Connection.ClientCertificate;
        var peer = admission.Admit(certificate).Peer ?? "unknown";
        var method = http.Request.Path.Value ?? "";
        var name = status.ToString();
        var reason = Message(http) ?? $"refused by gRPC before the call reached the service (HTTP {http.Response.StatusCode.ToString(CultureInfo.InvariantCulture)})";
        var remote = http.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, http.Connection.RemotePort) : null;
        var denied = FederationCallInterceptor.IsDenied(status);
        if (denied)
        {
            metrics.Refused(peer, name);
        }

        metrics.Call(peer, method, name, Stopwatch.GetElapsedTime(started));
        FederationLog.Call(logger, method, peer, name);
        // Note: not cancelled with the request, because the record of a call the peer abandoned must still be written.
        await audit.CallAsync(new FederationCallRecord(peer, remote, certificate?.GetCertHashString(HashAlgorithmName.SHA256), method, name, denied, null, null, null, null, reason),
            CancellationToken.None);
    }

    /// <summary>
    /// The call's gRPC status: in the response headers when gRPC answered before any message (a trailers-only response), in the
    /// trailers otherwise; a request gRPC refused at HTTP level (no status) counts as INTERNAL.
    /// </summary>
    private static StatusCode? Status(HttpContext http)
    {
        var text = Header(http, "grpc-status");
        if (text is null)
        {
            return http.Response.StatusCode == StatusCodes.Status200OK ? null : StatusCode.Internal;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? (StatusCode)code : StatusCode.Unknown;
    }

    private static string? Message(HttpContext http) => Header(http, "grpc-message") is { Length: > 0 } message ? Uri.UnescapeDataString(message) : null;

    private static string? Header(HttpContext http, string name)
    {
        var value = http.Response.Headers[name];
        if (value.Count == 0 && http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { } trailers)
        {
            value = trailers[name];
        }

        return value.Count == 0 ? null : value.ToString();
    }
}
