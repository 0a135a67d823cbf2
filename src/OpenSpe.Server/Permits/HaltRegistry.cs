using Microsoft.EntityFrameworkCore;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Which halts are in force, held in memory so every project-scoped request checks them without
/// a database round trip: a halt takes effect on the very next request (OPR-20). The database
/// is the record; this is rebuilt from it at start.
/// </summary>
/// <remarks>
/// A halt also stops what is already running. Work of a project (a request past the access gate, and later a job or a
/// session) runs under a <see cref="ProjectWork"/> from <see cref="TryBeginWork"/>, whose token is cancelled when the project
/// or everything is halted. Whatever makes a change of a project durable (an upload's row, a stored file, its audit record)
/// does so inside a <see cref="TryBeginCommit"/> lease; <see cref="ReloadAsync"/> marks a new halt at once and then waits
/// for the leases already taken in its scope, so the halt's own audit record, written after it, follows every commit of
/// that project, and no commit follows it.
/// </remarks>
public sealed class HaltRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, WorkScope> _work = new(StringComparer.Ordinal);
    private readonly HashSet<CommitLease> _commits = [];
    private HashSet<string> _projects = new(StringComparer.Ordinal);
    private bool _all;
    private int _drainsWaiting;

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

    /// <summary>Halts that are waiting for commits in flight before they are recorded (for tests).</summary>
    internal int DrainsWaiting => Volatile.Read(ref _drainsWaiting);

    /// <summary>True when the project (or everything) is halted.</summary>
    public bool IsHalted(string projectId)
    {
        lock (_lock)
        {
            return _all || _projects.Contains(projectId);
        }
    }

    /// <summary>
    /// Registers work of <paramref name="projectId"/> that a halt must stop; null when the project is halted already.
    /// Dispose the result when the work ends.
    /// </summary>
    public ProjectWork? TryBeginWork(string projectId)
    {
        ArgumentNullException.ThrowIfNull(projectId);
        lock (_lock)
        {
            if (_all || _projects.Contains(projectId))
            {
                return null;
            }

            if (!_work.TryGetValue(projectId, out var scope))
            {
                _work[projectId] = scope = new WorkScope(projectId);
            }

            scope.Users++;
            return new ProjectWork(this, scope);
        }
    }

    /// <summary>
    /// A lease under which a change of <paramref name="projectId"/> may become durable; null when the project is halted,
    /// and then nothing may be committed. Hold it from the last check to the change's audit record, and no longer.
    /// </summary>
    public IDisposable? TryBeginCommit(string projectId)
    {
        ArgumentNullException.ThrowIfNull(projectId);
        lock (_lock)
        {
            if (_all || _projects.Contains(projectId))
            {
                return null;
            }

            var lease = new CommitLease(this, projectId);
            _commits.Add(lease);
            return lease;
        }
    }

    /// <summary>
    /// Reloads the active halts from the database. A newly halted scope cancels its work at once and refuses new commits;
    /// this returns only when the commits it found in flight there are over.
    /// </summary>
    public async Task ReloadAsync(SpeDbContext database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        var active = await database.Halts.Where(h => h.ResumedAt == null).Select(h => h.ProjectId).ToListAsync(cancellationToken);
        var all = active.Any(p => p is null);
        var projects = active.Where(p => p is not null).Select(p => p!).ToHashSet(StringComparer.Ordinal);
        List<WorkScope> stopped;
        List<Task> inFlight;
        lock (_lock)
        {
            bool NewlyHalted(string project) => !_all && !_projects.Contains(project) && (all || projects.Contains(project));
            stopped = _work.Values.Where(w => NewlyHalted(w.ProjectId)).ToList();
            inFlight = _commits.Where(c => NewlyHalted(c.ProjectId)).Select(c => c.Done).ToList();
            foreach (var scope in stopped)
            {
                // Detached: work begun after a resume gets a fresh token.
                _work.Remove(scope.ProjectId);
            }

            _all = all;
            _projects = projects;
        }

        // Note: cancelled outside the lock, because cancellation runs the callbacks of the work it stops (OPR-20).
        foreach (var scope in stopped)
        {
            await scope.Source.CancelAsync();
        }

        if (inFlight.Count > 0)
        {
            Interlocked.Increment(ref _drainsWaiting);
            try
            {
                // Note: a commit that passed its check before the halt finishes, audit record included, before the halt is recorded.
                await Task.WhenAll(inFlight);
            }
            finally
            {
                Interlocked.Decrement(ref _drainsWaiting);
            }
        }
    }

    private void Leave(WorkScope scope)
    {
        lock (_lock)
        {
            if (--scope.Users > 0)
            {
                return;
            }

            // A scope a halt detached is no longer in the map; either way its last user disposes it.
            if (_work.TryGetValue(scope.ProjectId, out var current) && current == scope)
            {
                _work.Remove(scope.ProjectId);
            }

            scope.Source.Dispose();
        }
    }

    private void End(CommitLease lease)
    {
        lock (_lock)
        {
            _commits.Remove(lease);
        }

        lease.Complete();
    }

    /// <summary>The cancellation shared by the running work of one project; it exists while someone uses it.</summary>
    internal sealed class WorkScope(string projectId)
    {
        public string ProjectId { get; } = projectId;

        public CancellationTokenSource Source { get; } = new();

        public int Users { get; set; }
    }

    /// <summary>Work of a project in progress: <see cref="Halted"/> is cancelled by a halt of the project or of everything.</summary>
    public sealed class ProjectWork : IDisposable
    {
        private readonly HaltRegistry _registry;
        private readonly WorkScope _scope;
        private int _ended;

        internal ProjectWork(HaltRegistry registry, WorkScope scope)
        {
            _registry = registry;
            _scope = scope;
            Halted = scope.Source.Token;
        }

        /// <summary>Cancelled when the project is halted.</summary>
        public CancellationToken Halted { get; }

        /// <inheritdoc />
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                _registry.Leave(_scope);
            }
        }
    }

    private sealed class CommitLease(HaltRegistry registry, string projectId) : IDisposable
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _ended;

        public string ProjectId { get; } = projectId;

        public Task Done => _done.Task;

        public void Complete() => _done.TrySetResult();

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                registry.End(this);
            }
        }
    }
}
