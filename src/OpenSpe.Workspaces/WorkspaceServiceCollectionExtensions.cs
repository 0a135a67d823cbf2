using System.Runtime.Versioning;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Workspaces.Bubblewrap;

namespace OpenSpe.Workspaces;

/// <summary>Registers the single-node (bubblewrap) workspace runtime.</summary>
public static class WorkspaceServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IWorkspaceRuntime"/>, <see cref="IPlaintextStaging"/> and <see cref="IProjectFiles"/> backed by bubblewrap and tmpfs, with
    /// <see cref="WorkspaceOptions"/> bound from the <c>Workspaces</c> section and validated when the host starts.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static IServiceCollection AddBubblewrapWorkspaces(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<WorkspaceOptions>().Bind(configuration.GetSection(WorkspaceOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkspaceOptions>, WorkspaceOptionsValidator>());
        services.TryAddSingleton(sp => new ProjectIdentities(sp.GetRequiredService<IOptions<WorkspaceOptions>>().Value));
        services.TryAddSingleton(sp => new TmpfsPlaintextStaging(
            sp.GetRequiredService<IOptions<WorkspaceOptions>>().Value,
            sp.GetRequiredService<ProjectIdentities>(),
            sp.GetRequiredService<ILogger<TmpfsPlaintextStaging>>()));
        services.TryAddSingleton<IPlaintextStaging>(sp => sp.GetRequiredService<TmpfsPlaintextStaging>());
        services.TryAddSingleton(sp => new BubblewrapRuntime(
            sp.GetRequiredService<IOptions<WorkspaceOptions>>().Value,
            sp.GetRequiredService<ProjectIdentities>(),
            sp.GetRequiredService<TmpfsPlaintextStaging>(),
            sp.GetRequiredService<ILogger<BubblewrapRuntime>>()));
        services.TryAddSingleton<IWorkspaceRuntime>(sp => sp.GetRequiredService<BubblewrapRuntime>());
        services.TryAddSingleton<IProjectFiles>(sp => new BubblewrapProjectFiles(
            sp.GetRequiredService<IOptions<WorkspaceOptions>>().Value,
            sp.GetRequiredService<ProjectIdentities>()));
        return services;
    }
}
