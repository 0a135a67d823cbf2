using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Api;

/// <summary>Token-bucket limits per authenticated identity and per client address (TIR-16).</summary>
internal sealed class RateLimitOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "RateLimiting";

    /// <summary>Burst size per identity.</summary>
    [Range(1, 1_000_000)]
    public int PerIdentityBurst { get; set; } = 200;

    /// <summary>Sustained requests per second per identity.</summary>
    [Range(1, 1_000_000)]
    public int PerIdentityPerSecond { get; set; } = 50;

    /// <summary>Burst size per client IP address.</summary>
    [Range(1, 1_000_000)]
    public int PerAddressBurst { get; set; } = 400;

    /// <summary>Sustained requests per second per client IP address.</summary>
    [Range(1, 1_000_000)]
    public int PerAddressPerSecond { get; set; } = 100;
}

/// <summary>Registers the limiter and its 429 problem answer.</summary>
internal static class RateLimitingSetup
{
    /// <summary>Adds chained per-address and per-identity limiters.</summary>
    public static IServiceCollection AddSpeRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddSingleton<Audit.RateLimitRefusalAudit>();
        services.AddHostedService<Audit.RateLimitSummaryService>();
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((options, limits) =>
        {
            var l = limits.Value;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    RateLimitPartition.GetTokenBucketLimiter(
                        "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                        _ => Bucket(l.PerAddressBurst, l.PerAddressPerSecond))),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                {
                    var subject = context.User.Identity?.IsAuthenticated == true ? context.User.FindFirst("sub")?.Value : null;
                    return subject is null
                        ? RateLimitPartition.GetNoLimiter("anonymous")
                        : RateLimitPartition.GetTokenBucketLimiter("sub:" + subject, _ => Bucket(l.PerIdentityBurst, l.PerIdentityPerSecond));
                }));
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, token) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                // Note: counted here, not from the audit records, because anonymous refusals reach the log only as a summary a minute later.
                context.HttpContext.RequestServices.GetRequiredService<Monitoring.SpeMetrics>().RateLimitRefused();
                await context.HttpContext.RequestServices.GetRequiredService<Audit.RateLimitRefusalAudit>().RecordAsync(context.HttpContext);
                await ProblemDetailsSetup.WriteProblemAsync(context.HttpContext, 429, ErrorCodes.RateLimited,
                    "Too many requests from this identity or address: wait for the time in Retry-After, then retry.");
            };
        });
        return services;
    }

    private static TokenBucketRateLimiterOptions Bucket(int burst, int perSecond) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
