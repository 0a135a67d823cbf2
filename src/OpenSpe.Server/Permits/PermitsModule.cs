using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// The permits module: data permits and their lifecycle, projects, emergency halts, and the access chain every
/// project request passes (<see cref="ProjectAccessGate"/>).
/// </summary>
internal static class PermitsModule
{
    /// <summary>Registers permits (sections <c>Permits</c> and <c>Halts</c>), the access chain and its start-up work.</summary>
    public static IServiceCollection AddPermitsModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<PermitOptions>(PermitOptions.Section);
        services.AddSingleton(_ => PermitSigningKey.LoadOrCreate(host.Directory));
        services.AddHalts();
        services.AddSingleton<PermitLifecycleSignal>();
        services.AddScoped<PermitService>();
        services.AddProjectAccess();
        services.AddHostedService<PermitLifecycleService>();
        services.AddSingleton<IModuleStart, PermitsStart>();
        services.AddHealthChecks().AddCheck<HaltReadinessCheck>(HaltReadinessCheck.Name, tags: [ReadinessChecks.Tag]);
        return services;
    }

    /// <summary>Puts the access chain in front of every endpoint with a <c>{projectId}</c> route value (after authorization).</summary>
    public static IApplicationBuilder UseProjectAccess(this IApplicationBuilder app) => app.UseMiddleware<ProjectAccessGate>();

    /// <summary>Maps the permit, project and halt APIs.</summary>
    public static IEndpointRouteBuilder MapPermitsModule(this IEndpointRouteBuilder routes)
    {
        routes.MapPermitEndpoints();
        routes.MapProjectEndpoints();
        routes.MapHaltEndpoints();
        return routes;
    }

    /// <summary>The halts in force before the first request; the permit signing key made before the first permit; keys no permit names destroyed.</summary>
    private sealed class PermitsStart : IModuleStart
    {
        public int Order => ModuleStartOrder.Permits;

        public async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            await using (var scope = services.CreateAsyncScope())
            {
                await services.GetRequiredService<HaltRegistry>().ReloadAsync(scope.ServiceProvider.GetRequiredService<SpeDbContext>(), cancellationToken);
            }

            _ = services.GetRequiredService<PermitSigningKey>();
            await KeysWithoutPermit.SweepAsync(services, cancellationToken);
        }
    }
}
