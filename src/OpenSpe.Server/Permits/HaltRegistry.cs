using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Which halts are in force, held in memory so every project-scoped request checks them without
/// a database round trip: a halt takes effect on the very next request (OPR-20). The database
/// is the record; this is rebuilt from it at start and kept in step with it by <see cref="HaltSynchronizer"/>,
/// so a halt or resume made on another instance sharing the database is in force here within
/// <see cref="HaltOptions.StalenessBound"/>.
/// </summary>
/// <remarks>
/// A halt also stops what is already running. Work of a project (a request past the access gate, and later a job or a
/// session) runs under a <see cref="ProjectWork"/> from <see cref="TryBeginWork"/>, whose token is cancelled when the project
/// or everything is halted. Whatever makes a change of a project durable (an upload's row, a stored file, its audit record)
/// does so inside a <see cref="TryBeginCommit"/> lease; <see cref="ReloadAsync"/> marks a new halt at once and then waits
/// for the leases already taken in its scope, so the halt's own audit record, written after it, follows every commit of
/// that project, and no commit follows it.
/// <para>
/// Fail closed: once the synchronizer has not read the halts for longer than the staleness bound, the registry is
/// <see cref="IsStale"/> and answers as if everything were halted (no work, no commit) until a read succeeds again.
/// </para>
/// </remarks>
internal sealed class HaltRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, WorkScope> _work = new(StringComparer.Ordinal);
    private readonly HashSet<CommitLease> _commits = [];
    private IReadOnlySet<string> _projects = new HashSet<string>(StringComparer.Ordinal);
    private bool _all;
    private int _drainsWaiting;
    private long _readTickets;
    private long _appliedTicket;

    // Stopwatch timestamp up to which the last read of the halts counts as current; never stale until a synchronizer sets it.
    private long _freshUntil = long.MaxValue;

    /// <summary>True when everything is halted (or the halts in force are not known, see <see cref="IsStale"/>).</summary>
    public bool AllHalted
    {
        get
        {
            lock (_lock)
            {
                return _all || StaleLocked();
            }
        }
    }

    /// <summary>
    /// True when this instance has not read the halts from the database for longer than the staleness bound: it cannot
    /// tell whether another instance halted something, so it treats everything as halted until it can.
    /// </summary>
    public bool IsStale
    {
        get
        {
            lock (_lock)
            {
                return StaleLocked();
            }
        }
    }

    /// <summary>Halts that are waiting for commits in flight before they are recorded (for tests).</summary>
    internal int DrainsWaiting => Volatile.Read(ref _drainsWaiting);

    /// <summary>True when the project (or everything) is halted, or the halts in force are not known (<see cref="IsStale"/>).</summary>
    public bool IsHalted(string projectId)
    {
        lock (_lock)
        {
            return HaltedLocked(projectId);
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
            if (HaltedLocked(projectId))
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
            if (HaltedLocked(projectId))
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
    /// this returns only when the commits in flight in the halted scopes are over.
    /// </summary>
    public async Task ReloadAsync(SpeDbContext database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        var ticket = BeginRead();
        var state = await HaltState.ReadAsync(database, cancellationToken);
        await ApplyAsync(state, ticket);
        await DrainCommitsAsync();
    }

    /// <summary>Takes the ticket of a read of the halts that is about to begin; later reads get larger tickets.</summary>
    internal long BeginRead() => Interlocked.Increment(ref _readTickets);

    /// <summary>
    /// Applies <paramref name="state"/>, read under <paramref name="ticket"/>, unless a read that began later was applied
    /// already (then it is older news: false). Newly halted scopes have their work cancelled.
    /// </summary>
    internal async Task<bool> ApplyAsync(HaltState state, long ticket)
    {
        ArgumentNullException.ThrowIfNull(state);
        List<WorkScope> stopped;
        lock (_lock)
        {
            if (ticket < _appliedTicket)
            {
                return false;
            }

            _appliedTicket = ticket;
            bool NewlyHalted(string project) => !_all && !_projects.Contains(project) && (state.All || state.Projects.Contains(project));
            stopped = _work.Values.Where(w => NewlyHalted(w.ProjectId)).ToList();
            foreach (var scope in stopped)
            {
                // Detached: work begun after a resume gets a fresh token.
                _work.Remove(scope.ProjectId);
            }

            _all = state.All;
            _projects = state.Projects;
        }

        await CancelAsync(stopped);
        return true;
    }

    /// <summary>
    /// Waits until no commit lease is held in a halted scope. New leases there are refused, so those held now began before
    /// the halt; once they are over, nothing of a halted project can still commit.
    /// </summary>
    internal async Task DrainCommitsAsync()
    {
        List<Task> inFlight;
        lock (_lock)
        {
            inFlight = _commits.Where(c => _all || _projects.Contains(c.ProjectId)).Select(c => c.Done).ToList();
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

    /// <summary>Counts what was read as current until the Stopwatch timestamp <paramref name="until"/>.</summary>
    internal void MarkFresh(long until)
    {
        lock (_lock)
        {
            _freshUntil = until;
        }
    }

    /// <summary>While <see cref="IsStale"/>, cancels all running work, as a halt of everything would.</summary>
    internal async Task<bool> StopWorkIfStaleAsync()
    {
        List<WorkScope> stopped;
        lock (_lock)
        {
            if (!StaleLocked())
            {
                return false;
            }

            stopped = [.. _work.Values];
            _work.Clear();
        }

        await CancelAsync(stopped);
        return true;
    }

    private static async Task CancelAsync(List<WorkScope> stopped)
    {
        // Note: cancelled outside the lock, because cancellation runs the callbacks of the work it stops (OPR-20).
        foreach (var scope in stopped)
        {
            await scope.Source.CancelAsync();
        }
    }

    private bool HaltedLocked(string projectId) => _all || _projects.Contains(projectId) || StaleLocked();

    // Note: real elapsed time, not the server's TimeProvider, because staleness is about how long the database has not
    // answered; tests move the server's clock by days, and that must not make the halts look unread.
    private bool StaleLocked() => _freshUntil != long.MaxValue && System.Diagnostics.Stopwatch.GetTimestamp() > _freshUntil;

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
    internal sealed class ProjectWork : IDisposable
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
