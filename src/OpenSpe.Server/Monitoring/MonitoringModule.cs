using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Monitoring.Alerts;
using OpenTelemetry.Metrics;

namespace OpenSpe.Server.Monitoring;

/// <summary>
/// The monitoring module: the SPE's meters, the platform's HTTP server, Kestrel and runtime meters, and their
/// Prometheus text at <c>/metrics</c> for operators and configured scrapers (SPER-9, TIR-13, TIR-15, TIR-27).
/// </summary>
internal static class MonitoringModule
{
    /// <summary>The platform meters exported beside the SPE's own.</summary>
    public static IReadOnlyList<string> PlatformMeters { get; } =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting", "System.Runtime"];

    /// <summary>Registers the meters (always: they cost nothing unexported) and, unless <c>Metrics:Enabled</c> is false, the exporter.</summary>
    public static IServiceCollection AddMonitoringModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<MetricsOptions>(MetricsOptions.Section);
        services.AddMetrics();
        services.AddSingleton<SpeMetrics>();
        services.AddSingleton<AuditMetrics>();
        services.AddSingleton<Audit.IAuditObserver>(sp => sp.GetRequiredService<AuditMetrics>());
        services.AddValidatedOptions<AlertOptions>(AlertOptions.Section);
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<Audit.IAuditObserver>(sp => sp.GetRequiredService<AlertEvaluator>());
        services.AddHostedService<AlertDispatcher>();
        services.AddHostedService<AlertWindowReplay>();
        services.AddSingleton<AlertMailer>();
        services.AddSingleton<LatencyRecorder>();
        services.AddSingleton<PeriodicAlertChecks>();
        services.AddSingleton<Audit.IAuditObserver>(sp => sp.GetRequiredService<PeriodicAlertChecks>());
        services.AddHostedService(sp => sp.GetRequiredService<PeriodicAlertChecks>());
        services.AddHttpClient(AlertDispatcher.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        var options = OptionsRegistration.BindNow<MetricsOptions>(host.Configuration, MetricsOptions.Section);
        services.AddAuthorization(o => o.AddPolicy(MetricsAccess.Policy, MetricsAccess.Build(options.Networks())));
        if (options.Enabled)
        {
            services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(SpeMetrics.MeterName)
                .AddMeter(Federation.FederationMetrics.MeterName)
                .AddMeter([.. PlatformMeters])
                // Note: no scrape cache, so that a scrape right after an action shows it; a scrape is a few kilobytes of text.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        }

        return services;
    }

    /// <summary>Maps <c>/metrics</c> when enabled.</summary>
    public static IEndpointRouteBuilder MapMonitoringModule(this IEndpointRouteBuilder routes, IConfiguration configuration)
    {
        if (OptionsRegistration.BindNow<MetricsOptions>(configuration, MetricsOptions.Section).Enabled)
        {
            routes.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(MetricsAccess.Policy).WithName("metrics.scrape").ExcludeFromDescription();
        }

        routes.MapAlertEndpoints();

        return routes;
    }
}
