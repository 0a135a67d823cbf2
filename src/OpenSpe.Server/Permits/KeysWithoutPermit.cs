using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Permits;

/// <summary>
/// At start, destroys the project keys no permit names: a permit's issue makes the key before the permit's row, so a save
/// that failed (and whose own clean-up failed too) or a crash between the two leaves a key of a project that does not exist,
/// which no erasure would ever destroy.
/// </summary>
/// <remarks>
/// Note: it runs before the server listens, on the data directory this process holds locked, so no issue is in flight here. A key
/// whose project holds stored objects is kept and logged instead, because a project with data had a permit (a database restored
/// from an older backup than the keys is for the operator to judge, not for a start to shred).
/// </remarks>
internal static partial class KeysWithoutPermit
{
    /// <summary>Destroys the keys of projects without a permit and without data; returns how many.</summary>
    public static async Task<int> SweepAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var keys = services.GetRequiredService<IProjectKeyStore>();
        var objects = services.GetRequiredService<IObjectStore>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KeysWithoutPermit).FullName!);
        var projects = keys.ListProjects();
        if (projects.Count == 0)
        {
            return 0;
        }

        await using var scope = services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var known = (await database.Permits.Select(p => p.ProjectId).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var destroyed = 0;
        foreach (var project in projects.Where(p => !known.Contains(p)))
        {
            if (await HasObjectsAsync(objects, project, cancellationToken))
            {
                LogKeptWithData(logger, project);
                continue;
            }

            await keys.DestroyProjectKeyAsync(project, cancellationToken);
            LogDestroyed(logger, project);
            destroyed++;
        }

        return destroyed;
    }

    private static async Task<bool> HasObjectsAsync(IObjectStore objects, string project, CancellationToken cancellationToken)
    {
        await foreach (var _ in objects.ListAsync($"projects/{project}/", cancellationToken))
        {
            return true;
        }

        return false;
    }

    [LoggerMessage(EventId = 13002, Level = LogLevel.Warning, Message = "SPE13002 the key of project {ProjectId} was destroyed at start: no permit names the project (its issue failed or was interrupted)")]
    private static partial void LogDestroyed(ILogger logger, string projectId);

    [LoggerMessage(EventId = 13003, Level = LogLevel.Error, Message = "SPE13003 project {ProjectId} has a key and stored objects but no permit (a database older than the keys and objects?); its key was kept")]
    private static partial void LogKeptWithData(ILogger logger, string projectId);
}
