using Microsoft.Extensions.Options;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The hold an analysis session keeps on a project's decrypted datasets: a lease on the project's plaintext staged for its sandbox
/// (<see cref="IPlaintextStaging"/>, memory-backed, readable by the project's uid only). A GLM asks a node once per Fisher scoring
/// round, and every round of one session (the coordinator's one analysis, see <see cref="FederatedAnalysisContext.Session"/>) uses
/// the same copy, so the node decrypts its data once per analysis instead of once per round. A copy is released when the session
/// has been idle for <see cref="FederationOptions.DecryptedCopyIdle"/>, when a round of it fails or is refused, when it is older
/// than <see cref="FederationOptions.MaxDeadline"/>, and when the node stops; the plaintext goes with the project's last lease. A
/// halt of the project or the SPE stops the project's sandboxes and removes its staged plaintext at once. A task without a session
/// (a <c>Train</c> stream) gets a copy of its own, released when it ends.
/// </summary>
/// <remarks>
/// Note: the copy is registered as the project's work (<see cref="HaltRegistry.TryBeginWork"/>) for its whole life, because a halt
/// must remove plaintext that no task is using at that moment as well.
/// </remarks>
internal sealed class DecryptedCopies(HaltRegistry halts, IWorkspaceRuntime runtime, TimeProvider time, IOptions<FederationOptions> options)
    : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Copy> _sessions = new(StringComparer.Ordinal);
    private readonly HashSet<Copy> _all = [];
    private long _made;

    /// <summary>Copies made since start (each one a decryption of the project's datasets).</summary>
    public long Made => Interlocked.Read(ref _made);

    /// <summary>Copies held now.</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _all.Count;
            }
        }
    }

    /// <summary>The runners copies keep for their sessions' rounds now (started, not yet ended).</summary>
    internal IReadOnlyList<ComponentSession> Runners
    {
        get
        {
            lock (_gate)
            {
                return [.. _all.Select(c => c.Runner).OfType<Task<ComponentSession>>().Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)];
            }
        }
    }

    /// <summary>
    /// The copy for <paramref name="session"/> (null: a copy of its own) of <paramref name="projectId"/>'s data: when there is none yet,
    /// <paramref name="stage"/> takes a lease on the project's staged plaintext (decrypting it when nobody holds one yet), and the copy
    /// holds that lease until it goes. Release the returned lease when the round ends, saying whether it failed; a failed round
    /// releases the copy.
    /// </summary>
    /// <exception cref="FederatedAnalysisRefusedException">The project or the SPE is halted.</exception>
    public Task<Lease> AcquireStagedAsync(string? session, string projectId, Func<CancellationToken, Task<IPlaintextLease>> stage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return AcquireCoreAsync(session, projectId, async (copy, token) =>
        {
            var plaintext = await stage(token);
            bool attached;
            lock (_gate)
            {
                attached = !copy.Deleted;
                if (attached)
                {
                    copy.Plaintext = plaintext;
                }
            }

            if (!attached)
            {
                await plaintext.DisposeAsync();
                throw new FederatedAnalysisRefusedException(ErrorCodes.FederationHalted, "the project or this SPE is halted");
            }
        }, cancellationToken);
    }

    private async Task<Lease> AcquireCoreAsync(string? session, string projectId, Func<Copy, CancellationToken, Task> fill, CancellationToken cancellationToken)
    {
        Copy copy;
        var made = false;
        lock (_gate)
        {
            // Note: a copy whose plaintext was removed under it (a halt, the permit's end) is never reused.
            if (session is null || !_sessions.TryGetValue(session, out copy!) || copy.Doomed || copy.Plaintext is { IsValid: false }
                || time.GetUtcNow() - copy.Created > options.Value.MaxDeadline)
            {
                if (session is not null && _sessions.Remove(session, out var old))
                {
                    DoomLocked(old);
                }

                var work = halts.TryBeginWork(projectId)
                    ?? throw new FederatedAnalysisRefusedException(ErrorCodes.FederationHalted, "the project or this SPE is halted");
                copy = new Copy(session, projectId, work, time.GetUtcNow());
                _all.Add(copy);
                if (session is not null)
                {
                    _sessions[session] = copy;
                }

                made = true;
            }

            copy.Users++;
            copy.IdleTimer?.Dispose();
            copy.IdleTimer = null;
        }

        if (made)
        {
            Interlocked.Increment(ref _made);
            var created = copy;
            // Note: registered outside the lock, because a halt that came in between runs the callback at once.
            copy.HaltRegistration = copy.Work.Halted.Register(() =>
            {
                Doom(created);
                // Note: a halt kills the project's sandboxes (a component still running among them) and removes its staged
                // plaintext at once, whatever leases are held (OPR-20).
                _ = runtime.StopProjectAsync(created.ProjectId, WorkspaceStopReason.Halted, CancellationToken.None);
            });
            copy.Filled = fill(copy, cancellationToken);
        }

        try
        {
            await copy.Filled!.WaitAsync(cancellationToken);
        }
        catch
        {
            Release(copy, failed: true);
            throw;
        }

        return new Lease(this, copy);
    }

    public void Dispose()
    {
        List<Copy> all;
        lock (_gate)
        {
            all = [.. _all];
            _all.Clear();
            _sessions.Clear();
        }

        foreach (var copy in all)
        {
            Delete(copy);
        }
    }

    /// <summary>
    /// The runner <paramref name="copy"/> keeps for its session (started by <paramref name="start"/> when it has none, or its last one
    /// broke), or null when it has no session or this node keeps <see cref="FederationOptions.ComponentRunnersKept"/> already.
    /// </summary>
    private async Task<ComponentSession?> RunnerAsync(Copy copy, Func<CancellationToken, Task<ComponentSession>> start, CancellationToken cancellationToken)
    {
        Task<ComponentSession>? runner;
        ComponentSession? broken = null;
        lock (_gate)
        {
            if (copy.Deleted)
            {
                throw new FederatedAnalysisRefusedException(ErrorCodes.FederationHalted, "the project or this SPE is halted");
            }

            if (copy.Runner is { IsCompletedSuccessfully: true } done && done.Result.IsBroken)
            {
                broken = done.Result;
                copy.Runner = null;
            }

            if (copy.Runner is { IsFaulted: true } or { IsCanceled: true })
            {
                copy.Runner = null;
            }

            // Note: no new runner for a copy that is going (a failed round, a halt): it would be killed at once.
            if (copy.Runner is null && copy.Session is not null && !copy.Doomed && _all.Count(c => c.Runner is not null) < options.Value.ComponentRunnersKept)
            {
                // Note: started off the lock and without the round's token, because the runner serves the session's later rounds as
                // well; the round waits for it with its own. It ends with the copy (idle, a failed round, a halt, its age, the node's stop).
                copy.Runner = Task.Run(() => start(CancellationToken.None), CancellationToken.None);
            }

            runner = copy.Runner;
        }

        if (broken is not null)
        {
            await broken.DisposeAsync();
        }

        return runner is null ? null : await runner.WaitAsync(cancellationToken);
    }

    private void Release(Copy copy, bool failed)
    {
        var delete = false;
        lock (_gate)
        {
            copy.Users--;
            if (failed || copy.Session is null)
            {
                if (copy.Session is not null && _sessions.TryGetValue(copy.Session, out var current) && current == copy)
                {
                    _sessions.Remove(copy.Session);
                }

                copy.Doomed = true;
            }

            if (copy.Users == 0)
            {
                if (copy.Doomed)
                {
                    delete = _all.Remove(copy);
                }
                else
                {
                    copy.IdleTimer = time.CreateTimer(_ => Doom(copy), null, options.Value.DecryptedCopyIdle, Timeout.InfiniteTimeSpan);
                }
            }
        }

        if (delete)
        {
            Delete(copy);
        }
    }

    /// <summary>Removes a copy now if nobody uses it, else when its last user is done (halt, idle, replaced).</summary>
    private void Doom(Copy copy)
    {
        bool delete;
        lock (_gate)
        {
            if (copy.Session is not null && _sessions.TryGetValue(copy.Session, out var current) && current == copy)
            {
                _sessions.Remove(copy.Session);
            }

            delete = DoomLocked(copy);
        }

        if (delete)
        {
            Delete(copy);
        }
    }

    private bool DoomLocked(Copy copy)
    {
        copy.Doomed = true;
        return copy.Users == 0 && _all.Remove(copy);
    }

    private void Delete(Copy copy)
    {
        copy.IdleTimer?.Dispose();
        copy.HaltRegistration.Dispose();
        copy.Work.Dispose();
        IPlaintextLease? plaintext;
        Task<ComponentSession>? runner;
        lock (_gate)
        {
            copy.Deleted = true;
            plaintext = copy.Plaintext;
            copy.Plaintext = null;
            runner = copy.Runner;
            copy.Runner = null;
        }

        // Note: the session's runner is killed before its plaintext goes, and one still starting is killed once it has started.
        if (runner is { IsCompletedSuccessfully: true })
        {
            runner.Result.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        else if (runner is not null)
        {
            _ = runner.ContinueWith(t => t.Result.DisposeAsync().AsTask(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap();
        }

        // Note: waited for, so the staged plaintext is gone (when this was its last lease) before the copy counts as gone.
        plaintext?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>One round's use of a copy.</summary>
    internal sealed class Lease(DecryptedCopies owner, Copy copy)
    {
        private int _released;

        /// <summary>The project's staged plaintext.</summary>
        public IPlaintextLease Plaintext => copy.Plaintext ?? throw new InvalidOperationException("the copy holds no staged plaintext");

        /// <summary>
        /// The runner the session keeps across its rounds (started with <paramref name="start"/> when needed), or null when the round
        /// should start one of its own (no session, or this node keeps as many as it may).
        /// </summary>
        /// <exception cref="FederatedAnalysisRefusedException">The copy went (a halt).</exception>
        public Task<ComponentSession?> RunnerAsync(Func<CancellationToken, Task<ComponentSession>> start, CancellationToken cancellationToken) =>
            owner.RunnerAsync(copy, start, cancellationToken);

        /// <summary>Ends the round's use; a failed round removes the copy.</summary>
        public void Release(bool failed)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(copy, failed);
            }
        }
    }

    internal sealed class Copy(string? session, string projectId, HaltRegistry.ProjectWork work, DateTimeOffset created)
    {
        public string? Session { get; } = session;

        public string ProjectId { get; } = projectId;

        public IPlaintextLease? Plaintext { get; set; }

        public bool Deleted { get; set; }

        public HaltRegistry.ProjectWork Work { get; } = work;

        public DateTimeOffset Created { get; } = created;

        public Task? Filled { get; set; }

        public int Users { get; set; }

        public bool Doomed { get; set; }

        public ITimer? IdleTimer { get; set; }

        public Task<ComponentSession>? Runner { get; set; }

        public CancellationTokenRegistration HaltRegistration { get; set; }
    }
}
