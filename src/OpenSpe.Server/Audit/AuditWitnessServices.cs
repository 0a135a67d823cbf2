using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Audit;

/// <summary>Registers the record of signed checkpoints and the witnesses they are pushed to.</summary>
internal static class AuditWitnessServices
{
    /// <summary>Adds <see cref="AuditWitnessPublisher"/> and <see cref="AuditCheckpointLedger"/> for <paramref name="directory"/>.</summary>
    public static IServiceCollection AddAuditWitnessing(this IServiceCollection services, DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        services.AddSingleton(sp => new AuditWitnessPublisher(
            sp.GetRequiredService<IOptions<AuditOptions>>().Value.Witnesses, sp.GetRequiredService<ILoggerFactory>().CreateLogger<AuditWitnessPublisher>(),
            sp.GetRequiredService<TimeProvider>(), directory));
        services.AddSingleton(sp =>
        {
            var files = sp.GetRequiredService<IOptions<AuditOptions>>().Value.Witnesses.Files;
            var inside = directory.Path.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            foreach (var file in files)
            {
                // Note: a witness next to the database is erased by whoever erases the database; it belongs on another volume.
                if (Path.GetFullPath(file).StartsWith(inside, StringComparison.Ordinal))
                {
                    throw new SpeConfigurationException($"Audit:Witnesses:Files: {file} is inside the data directory; put witness files on another volume");
                }
            }

            return new AuditCheckpointLedger(directory, sp.GetRequiredService<AuditSigningKey>(), files, sp.GetRequiredService<AuditWitnessPublisher>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<AuditCheckpointLedger>());
        });
        return services;
    }
}
