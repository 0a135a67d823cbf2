using System.Globalization;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Writes one outcome record for every request (SPER-9, TIR-12) and holds the response until that
/// record is durable; if it cannot be written, the client gets 503 instead of the answer.
/// Requests that can change state (anything but GET, HEAD, OPTIONS) are also gated before they
/// run: a <c>request.received</c> record must be durable first, so when the audit log is down
/// they are refused with no other effect (fail closed, as Vault does). Requests the rate limiter
/// refuses never get here: <see cref="RateLimitRefusalAudit"/> records those.
/// </summary>
/// <remarks>
/// Endpoints marked <see cref="AuditStreamingAttribute"/> are not held: a <c>stream opened</c> record is written before
/// their first byte (if it cannot be, they get the same 503 and nothing of the stream is sent), and a <c>stream closed</c>
/// record after their last, naming the opened record's sequence, the bytes sent, the duration and how it ended. A stream
/// that fails after its first byte is aborted (SPE12107), so its client never takes what it got for the whole answer.
/// </remarks>
internal sealed partial class AuditMiddleware(RequestDelegate next, IAuditLog audit, TimeProvider time, ILogger<AuditMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz"))
        {
            // Liveness probes run every few seconds and carry no actor or data; auditing them would drown the log.
            await next(context);
            return;
        }

        var traceId = TraceIds.Current(context);
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method))
        {
            try
            {
                await audit.AppendAsync(Entry(context, "request.received", AuditOutcome.Success, null, traceId), context.RequestAborted);
            }
            catch (AuditUnavailableException)
            {
                await ProblemDetailsSetup.WriteProblemAsync(context, 503, ErrorCodes.AuditUnavailable,
                    "The audit log cannot be written, so the request was not carried out. Try again later.");
                return;
            }
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<AuditStreamingAttribute>() is { } streaming && streaming.AppliesTo(context.Request))
        {
            await StreamAsync(context, traceId);
            return;
        }

        var original = context.Response.Body;
        await using var buffer = new FileBufferingWriteStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.Response.Body = original;
            // The exception handler outside answers it (a malformed body 400, anything unexpected 500); the record of it must exist
            // first and say the status the caller gets.
            var status = SpeExceptionHandler.StatusOf(ex);
            await audit.AppendAsync(Entry(context, ActionName(context), OutcomeOf(status), status, traceId), CancellationToken.None);
            throw;
        }
        finally
        {
            context.Response.Body = original;
        }

        await RecordAndSendAsync(context, buffer, traceId);
    }

    private async Task RecordAndSendAsync(HttpContext context, FileBufferingWriteStream? held, string traceId)
    {
        var status = context.Response.StatusCode;
        try
        {
            await audit.AppendAsync(Entry(context, ActionName(context), OutcomeOf(status), status, traceId), CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            await RefuseUnauditedAsync(context);
            return;
        }

        if (held is not null)
        {
            await held.DrainBufferAsync(context.Response.Body, context.RequestAborted);
        }
    }

    private async Task StreamAsync(HttpContext context, string traceId)
    {
        var original = context.Response.Body;
        long openedSequence = 0;
        long openedAt = 0;
        await using var stream = new AuditedResponseStream(original, context.Response, async (status, cancellationToken) =>
        {
            var details = new Dictionary<string, string>(StringComparer.Ordinal) { ["stream"] = "opened" };
            openedSequence = await audit.AppendAsync(Entry(context, ActionName(context), AuditOutcome.Success, status, traceId, details), cancellationToken);
            openedAt = time.GetTimestamp();
        });
        context.Response.Body = stream;
        if (context.Features.Get<IHttpUpgradeFeature>() is { } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new AuditedUpgradeFeature(upgrade, stream));
        }

        if (context.Features.Get<IHttpExtendedConnectFeature>() is { } connect)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(new AuditedExtendedConnectFeature(connect, stream));
        }

        ExceptionDispatchInfo? failure = null;
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            failure = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            context.Response.Body = original;
        }

        if (stream.Streaming)
        {
            if (failure is null && !stream.Upgraded)
            {
                try
                {
                    // Every byte handed to the connection before the closed record counts them.
                    await context.Response.CompleteAsync();
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
                {
                    failure = ExceptionDispatchInfo.Capture(ex);
                }
            }

            var end = await RecordClosedAsync(context, traceId, openedSequence, stream, time.GetElapsedTime(openedAt), failure is not null);
            if (end == AuditStreamEnd.Failed)
            {
                // Note: the status and some bytes are gone, so no error can be answered any more; the response is aborted (HTTP/2
                // RST_STREAM, HTTP/1.1 connection closed before the last chunk) because a clean end would let the client keep a
                // truncated download as complete. Aborted here, not left to what the server does with an exception after the
                // start, so that no middleware or server setting can turn a failed stream into a finished one.
                StreamFailed(logger, failure!.SourceException, ActionName(context), stream.BytesSent, traceId);
                context.Abort();
            }

            return;
        }

        if (stream.Refused && !context.Response.HasStarted)
        {
            // The handler ran up to its first byte, which never left: the client learns only that nothing could be audited.
            await RefuseUnauditedAsync(context);
            return;
        }

        if (failure is not null)
        {
            if (failure.SourceException is not OperationCanceledException)
            {
                await audit.AppendAsync(Entry(context, ActionName(context), AuditOutcome.Error, 500, traceId), CancellationToken.None);
            }

            failure.Throw();
        }

        await RecordAndSendAsync(context, stream.Held, traceId);
    }

    private async Task<string> RecordClosedAsync(HttpContext context, string traceId, long openedSequence, AuditedResponseStream stream, TimeSpan duration, bool failed)
    {
        // Note: a handler that does not watch the request's token can return normally after its client went away, so a body
        // stream is complete only if the connection was not aborted; an upgraded connection ends with its handler (a client
        // that drops the socket right after a clean WebSocket close has not aborted anything).
        var aborted = context.RequestAborted.IsCancellationRequested && (failed || !stream.Upgraded);
        var end = context.Items.TryGetValue(AuditDenialReason.Key, out var reason) && reason is "halted" ? AuditStreamEnd.Halted
            : aborted ? AuditStreamEnd.ClientAborted
            : failed ? AuditStreamEnd.Failed
            : AuditStreamEnd.Completed;
        var bytes = stream.BytesSent;
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["stream"] = "closed",
            ["opened"] = openedSequence.ToString(CultureInfo.InvariantCulture),
            ["bytes"] = bytes.ToString(CultureInfo.InvariantCulture),
            ["durationMs"] = ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            ["end"] = end,
        };
        var outcome = end switch
        {
            AuditStreamEnd.Completed => AuditOutcome.Success,
            AuditStreamEnd.Halted => AuditOutcome.Denied,
            _ => AuditOutcome.Error,
        };
        try
        {
            await audit.AppendAsync(Entry(context, ActionName(context), outcome, context.Response.StatusCode, traceId, details), CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            // Note: the bytes are gone already; the opened record stands, and an opened record without its closed record is
            // the trace of a stream whose end could not be recorded (the writer logged SPE12101).
        }

        return end;
    }

    [LoggerMessage(EventId = 12107, Level = LogLevel.Error, Message = "SPE12107 the stream {Action} failed after {Bytes} bytes; the response was aborted (trace {TraceId})")]
    private static partial void StreamFailed(ILogger logger, Exception exception, string action, long bytes, string traceId);

    private static async Task RefuseUnauditedAsync(HttpContext context)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.Clear();
            await ProblemDetailsSetup.WriteProblemAsync(context, 503, ErrorCodes.AuditUnavailable,
                "The audit log cannot be written, so no answer can be given. Try again later.");
        }
    }

    internal static AuditOutcome OutcomeOf(int status) => status switch
    {
        < 400 => AuditOutcome.Success,
        < 500 => AuditOutcome.Denied,
        _ => AuditOutcome.Error,
    };

    internal static string ActionName(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<IEndpointNameMetadata>() is { } name)
        {
            return name.EndpointName;
        }

        if (context.Request.Path.StartsWithSegments("/connect", out var rest) && rest.HasValue)
        {
            // OAuth protocol endpoints answered by the OpenID Connect server itself.
            return "oauth." + rest.Value!.Trim('/').Replace('/', '.');
        }

        return endpoint is RouteEndpoint route
            ? $"http.{context.Request.Method.ToLowerInvariant()} {route.RoutePattern.RawText}"
            : $"http.{context.Request.Method.ToLowerInvariant()} unmatched";
    }

    internal static AuditEntry Entry(HttpContext context, string action, AuditOutcome outcome, int? status, string traceId, Dictionary<string, string>? extra = null)
    {
        var actor = AuditActors.From(context.User, context);
        var routeValues = context.Request.RouteValues;
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<AuditResourceAttribute>();
        var resource = new AuditResource(
            metadata?.Type,
            routeValues.TryGetValue("id", out var id) ? Truncate(id?.ToString()) : null,
            routeValues.TryGetValue("projectId", out var project) ? Truncate(project?.ToString()) : null);
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["method"] = context.Request.Method,
            // Note: the path, never the query string: queries may carry search terms that are data.
            ["path"] = Truncate(context.Request.Path.Value) ?? "/",
        };
        foreach (var (key, value) in extra ?? [])
        {
            details[key] = value;
        }

        if (status is >= 400)
        {
            details["reason"] = context.Items.TryGetValue(AuditDenialReason.Key, out var reason) && reason is string r ? r : AuditDenialReason.ForStatus(status.Value);
        }

        return new AuditEntry(actor, action, resource, outcome, status, traceId, details);
    }

    private static string? Truncate(string? value) => value is { Length: > 200 } ? value[..200] : value;
}

/// <summary>Names the resource type an endpoint acts on, for its audit records.</summary>
/// <param name="type">Resource type, e.g. <c>audit-log</c>.</param>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
internal sealed class AuditResourceAttribute(string type) : Attribute
{
    /// <summary>Resource type.</summary>
    public string Type { get; } = type;
}

/// <summary>Lets a handler or policy say why it refused, for the audit record (a class of reason, never a secret).</summary>
internal static class AuditDenialReason
{
    /// <summary>Key in <see cref="HttpContext.Items"/>.</summary>
    public const string Key = "spe.audit.reason";

    /// <summary>The reason class implied by a status when the handler gave none.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => "invalid-input",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        410 => "version-retired",
        413 => "too-large",
        415 => "unsupported-media-type",
        423 => "locked",
        429 => "rate-limited",
        503 => "unavailable",
        _ => status >= 500 ? "server-error" : "refused",
    };

    /// <summary>Records the reason class.</summary>
    public static void Set(HttpContext context, string reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[Key] = reason;
    }
}
