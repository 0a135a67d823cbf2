using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSpe.Server.Hosting;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// The airlock module: the only way out of a project and the reviewed way in (EHDSR-12, EHDSR-13, SPER-3, FCR-6, TIR-25) —
/// export requests from <c>/outputs</c> with automatic disclosure checks (OpenSpe.Disclosure under the permit's
/// <c>policies.airlock</c>) and independent output checkers, the encrypted outbox, and import requests into
/// <c>/project/imports</c>.
/// </summary>
internal static class AirlockModule
{
    /// <summary>Registers the airlock (section <c>Airlock</c>). Without a workspace runtime, submissions are answered 503.</summary>
    public static IServiceCollection AddAirlockModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<AirlockOptions>(AirlockOptions.Section);
        // Note: the workspaces module registers the runtime's project files first (bubblewrap); otherwise nothing can be read.
        services.TryAddSingleton<IProjectFiles, UnavailableProjectFiles>();
        services.AddSingleton<FrozenFiles>();
        services.AddScoped<AirlockReviews>();
        services.AddSingleton<IModuleStart, AirlockWorkSweep>();
        return services;
    }

    /// <summary>Maps the export, import, export-registry and import-queue endpoints, and the checkers' previews of both directions.</summary>
    public static IEndpointRouteBuilder MapAirlockModule(this IEndpointRouteBuilder routes) =>
        routes.MapExportEndpoints().MapImportEndpoints().MapExportRegistryEndpoints().MapImportQueueEndpoints().MapAirlockPreviewEndpoints();

    /// <summary>Project files when no runtime is configured: nothing can be read or placed.</summary>
    private sealed class UnavailableProjectFiles : IProjectFiles
    {
        public WorkspaceAvailability Availability { get; } = new(false, "no workspace runtime is configured on this server (the operator sets Workspaces:Runtime=bubblewrap)");

        public Task<ProjectFileCopy> CopyOutputAsync(string projectId, string relativeName, Stream destination, long maxBytes, CancellationToken cancellationToken) =>
            throw new ProjectFileException(ProjectFileError.Unavailable, Availability.Reason);

        public Task<ProjectFileCopy> PlaceImportAsync(string projectId, string folder, string fileName, Stream content, CancellationToken cancellationToken) =>
            throw new ProjectFileException(ProjectFileError.Unavailable, Availability.Reason);

        public Task<ProjectOutputListing> ListOutputsAsync(string projectId, int maxFiles, CancellationToken cancellationToken) =>
            throw new ProjectFileException(ProjectFileError.Unavailable, Availability.Reason);
    }
}
