using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Marks an endpoint whose answer is a stream (a download, an export, a server-sent log, a WebSocket): the audit middleware
/// does not hold its body until the outcome record is written, but writes a <c>stream opened</c> record before the first
/// byte leaves and a <c>stream closed</c> record (bytes, duration, how it ended) after the last (SPER-9, TIR-12).
/// </summary>
/// <remarks>
/// An answer that starts with an error status (4xx, 5xx) or sends no body is held and recorded like any other. A WebSocket
/// endpoint is covered when <c>UseWebSockets()</c> runs after the audit middleware (it takes the upgrade feature it finds).
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
internal sealed class AuditStreamingAttribute : Attribute
{
    /// <summary>
    /// On a Razor page (one endpoint whatever handler runs), only requests for this handler stream; the page's other answers
    /// are held as any other. Null: every request to the endpoint streams.
    /// </summary>
    public string? Handler { get; init; }

    /// <summary>True when <paramref name="request"/> is one this endpoint streams.</summary>
    public bool AppliesTo(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Handler is null)
        {
            return true;
        }

        // Note: Razor Pages take the handler from the route value first, then the query, and compare it ignoring case.
        var named = request.RouteValues.TryGetValue("handler", out var route) && route is string r ? r : request.Query["handler"].ToString();
        return string.Equals(named, Handler, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Declares endpoints as streaming for the audit middleware.</summary>
internal static class AuditStreamingExtensions
{
    /// <summary>Adds <see cref="AuditStreamingAttribute"/> to the endpoint's metadata.</summary>
    public static TBuilder WithAuditStreaming<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new AuditStreamingAttribute());
}

/// <summary>How a stream ended, as its closed record says (details <c>end</c>).</summary>
internal static class AuditStreamEnd
{
    /// <summary>The handler finished and every byte was handed to the connection.</summary>
    public const string Completed = "completed";

    /// <summary>The client went away before the end.</summary>
    public const string ClientAborted = "client-aborted";

    /// <summary>The handler threw after the stream had started; the response was aborted, so the client sees it broken.</summary>
    public const string Failed = "failed";

    /// <summary>An emergency halt of the project (or of everything) cut the stream (OPR-20).</summary>
    public const string Halted = "halted";
}
