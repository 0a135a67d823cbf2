using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Transfers;

/// <summary>The transfers module: resumable encrypted uploads (tus), their verification, storage and expiry, and the browser upload page.</summary>
internal static class TransfersModule
{
    /// <summary>Registers transfers (sections <c>Uploads</c> and <c>UploadPage</c>).</summary>
    public static IServiceCollection AddTransfersModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<UploadOptions>(UploadOptions.Section);
        services.AddValidatedOptions<UploadPageOptions>(UploadPageOptions.Section);
        services.AddSingleton<UploadStaging>();
        services.AddSingleton<IFreeSpaceProbe, DriveFreeSpaceProbe>();
        services.AddSingleton<UploadStorage>();
        services.AddSingleton<IngestVerifier>();
        services.AddSingleton<IngestSessions>();
        services.AddScoped<UploadService>();
        services.AddSingleton<ExpiredUploadSweeper>();
        services.AddHostedService(s => s.GetRequiredService<ExpiredUploadSweeper>());
        services.AddScoped<IProjectTerminationHook, UploadTerminationHook>();
        return services;
    }

    /// <summary>Maps the tus endpoints, the dataset file listing and the browser upload page.</summary>
    public static IEndpointRouteBuilder MapTransfersModule(this IEndpointRouteBuilder routes)
    {
        routes.MapTransferEndpoints();
        routes.MapUploadPage();
        return routes;
    }
}
