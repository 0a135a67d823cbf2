using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Transfers;

/// <summary>The transfers module: resumable encrypted uploads (tus), their verification, storage and expiry.</summary>
internal static class TransfersModule
{
    /// <summary>Registers transfers (section <c>Uploads</c>).</summary>
    public static IServiceCollection AddTransfersModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<UploadOptions>(UploadOptions.Section);
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

    /// <summary>Maps the tus endpoints and the dataset file listing.</summary>
    public static IEndpointRouteBuilder MapTransfersModule(this IEndpointRouteBuilder routes) => routes.MapTransferEndpoints();
}
