using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Operations.Certificates;
using OpenSpe.Server.Operations.Components;
using OpenSpe.Core.Access;
using OpenSpe.Server.Operations.Incidents;
using OpenSpe.Server.Operations.Training;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Operations;

/// <summary>
/// The operations module (OPR-18…27): the server's part in backups (the shred ledger that keeps crypto-shredded
/// projects shredded across restores), scheduled backups and the evidence of backups and restore drills, incidents on the
/// HDAB clock, the training records that gate project access (OPR-23) and the component inventory.
/// </summary>
internal static class OperationsModule
{
    /// <summary>Registers the module's services and options.</summary>
    public static IServiceCollection AddOperationsModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<BackupOptions>(BackupOptions.Section);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackupOptions>>(new BackupOptionsValidator(host.Directory.Path)));
        services.AddSingleton<ScheduledBackups>();
        services.AddHostedService(s => s.GetRequiredService<ScheduledBackups>());
        services.AddSingleton<IProjectErasureHook, ShredLedgerHook>();
        services.AddSingleton<IModuleStart, RestoredProjectFiles>();
        services.AddScoped<IncidentStore>();
        services.AddValidatedOptions<IncidentReminderOptions>(IncidentReminderOptions.Section);
        services.AddSingleton<IncidentReminders>();
        services.AddHostedService(sp => sp.GetRequiredService<IncidentReminders>());
        services.AddValidatedOptions<TrainingOptions>(TrainingOptions.Section);
        services.AddScoped<ITrainingRecords, TrainingRecords>();
        services.AddScoped<SystemComponentProbe>();
        return services;
    }

    /// <summary>Maps the module's endpoints.</summary>
    public static IEndpointRouteBuilder MapOperationsModule(this IEndpointRouteBuilder routes) =>
        routes.MapIncidentEndpoints().MapBackupEvidenceEndpoints().MapTrainingEndpoints().MapComponentEndpoints().MapCertificateEndpoints();
}
