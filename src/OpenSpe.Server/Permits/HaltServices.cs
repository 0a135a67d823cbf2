using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Permits;

/// <summary>Registers the halt registry and what keeps it in step with the shared database.</summary>
internal static class HaltServices
{
    /// <summary>Adds <see cref="HaltRegistry"/>, <see cref="HaltSynchronizer"/> and <see cref="HaltOptions"/> (section <c>Halts</c>).</summary>
    public static IServiceCollection AddHalts(this IServiceCollection services)
    {
        services.AddOptions<HaltOptions>().BindConfiguration(HaltOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<HaltRegistry>();
        services.AddSingleton<IHaltSource, DatabaseHaltSource>();
        services.AddHostedService<HaltSynchronizer>();
        return services;
    }
}
