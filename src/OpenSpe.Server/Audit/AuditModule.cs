using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Audit;

/// <summary>The audit module: the hash-chained log, its writer, checkpoints and witnesses, and the auditors' API.</summary>
internal static class AuditModule
{
    /// <summary>Registers the audit log (section <c>Audit</c>) and its start-up work.</summary>
    public static IServiceCollection AddAuditModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<AuditOptions>(AuditOptions.Section);
        services.AddSingleton(_ => AuditKeyFile.LoadOrCreate(host.Directory));
        services.AddSingleton<AuditStore>();
        services.AddAuditWitnessing(host.Directory);
        services.AddSingleton<AuditWriter>();
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditWriter>());
        services.AddSingleton<AuditService>();
        services.AddSingleton<IModuleStart, AuditLogStart>();
        services.AddHealthChecks().AddCheck<AuditReadinessCheck>(AuditReadinessCheck.Name, tags: [ReadinessChecks.Tag]);
        return services;
    }

    /// <summary>Maps the audit API.</summary>
    public static IEndpointRouteBuilder MapAuditModule(this IEndpointRouteBuilder routes) => routes.MapAuditEndpoints();

    private sealed class AuditLogStart : IModuleStart
    {
        public int Order => ModuleStartOrder.AuditLog;

        public async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            try
            {
                await services.GetRequiredService<AuditWriter>().StartAsync(cancellationToken);
            }
            catch (AuditLogRegressionException ex)
            {
                // Note: fail closed; signing over a truncated or rewritten log would make the tampering verify.
                throw new SpeConfigurationException($"refusing to start: {SpeConfigurationException.FirstLine(ex.Message)} (SPE12103; see docs/operations.md, 'Witnesses')", ex);
            }
        }
    }
}
