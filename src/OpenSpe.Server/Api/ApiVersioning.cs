using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Api;

/// <summary>
/// The lifecycle of an API version (TIR-14): it is announced as deprecated with RFC 9745
/// <c>Deprecation</c> and RFC 8594 <c>Sunset</c> headers, then answers 410 Gone after its sunset.
/// </summary>
internal sealed class ApiVersionPolicy
{
    /// <summary>When the version was (or will be) deprecated; null while it is current.</summary>
    public DateTimeOffset? DeprecatedAt { get; set; }

    /// <summary>When the version stops answering; null when not scheduled.</summary>
    public DateTimeOffset? SunsetAt { get; set; }

    /// <summary>Where the migration guide is.</summary>
    public Uri? Link { get; set; }
}

/// <summary>Configured API versions by path segment (<c>v1</c>, ...).</summary>
internal sealed class ApiVersionOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Api";

    /// <summary>Version policies, by path segment.</summary>
    public Dictionary<string, ApiVersionPolicy> Versions { get; } = new(StringComparer.Ordinal);

    /// <summary>Largest request body accepted by ordinary JSON endpoints.</summary>
    [System.ComponentModel.DataAnnotations.Range(1024, 64 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Adds deprecation headers and enforces sunsets for <c>/api/{version}/...</c> requests.</summary>
internal sealed class ApiVersionMiddleware(RequestDelegate next, IOptionsMonitor<ApiVersionOptions> options, TimeProvider time)
{
    public Task InvokeAsync(HttpContext context)
    {
        var segments = context.Request.Path.Value?.Split('/', 4);
        if (segments is not { Length: >= 3 } || segments[1] != "api"
            || !options.CurrentValue.Versions.TryGetValue(segments[2], out var policy))
        {
            return next(context);
        }

        var now = time.GetUtcNow();
        if (policy.SunsetAt is { } sunset && now >= sunset)
        {
            return ProblemDetailsSetup.WriteProblemAsync(context, StatusCodes.Status410Gone, ErrorCodes.VersionSunset,
                $"API version {segments[2]} was retired on {sunset:yyyy-MM-dd}. Use the current version.");
        }

        if (policy.DeprecatedAt is { } deprecated)
        {
            // RFC 9745: a structured-field date, seconds since the epoch prefixed with '@'.
            context.Response.Headers["Deprecation"] = "@" + deprecated.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            if (policy.Link is not null)
            {
                context.Response.Headers.Append("Link", $"<{policy.Link}>; rel=\"deprecation\"; type=\"text/html\"");
            }
        }

        if (policy.SunsetAt is { } sunsetAt)
        {
            // RFC 8594: an HTTP-date.
            context.Response.Headers["Sunset"] = sunsetAt.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        }

        return next(context);
    }
}
