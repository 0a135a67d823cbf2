using Microsoft.EntityFrameworkCore;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Which halts are in force, held in memory so every project-scoped request checks them without
/// a database round trip: a halt takes effect on the very next request (OPR-20). The database
/// is the record; this is rebuilt from it at start.
/// </summary>
public sealed class HaltRegistry
{
    private readonly Lock _lock = new();
    private HashSet<string> _projects = new(StringComparer.Ordinal);
    private bool _all;

    /// <summary>True when everything is halted.</summary>
    public bool AllHalted
    {
        get
        {
            lock (_lock)
            {
                return _all;
            }
        }
    }

    /// <summary>True when the project (or everything) is halted.</summary>
    public bool IsHalted(string projectId)
    {
        lock (_lock)
        {
            return _all || _projects.Contains(projectId);
        }
    }

    /// <summary>Reloads the active halts from the database.</summary>
    public async Task ReloadAsync(SpeDbContext database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        var active = await database.Halts.Where(h => h.ResumedAt == null).Select(h => h.ProjectId).ToListAsync(cancellationToken);
        lock (_lock)
        {
            _all = active.Any(p => p is null);
            _projects = active.Where(p => p is not null).Select(p => p!).ToHashSet(StringComparer.Ordinal);
        }
    }
}
