using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// The jobs this instance holds: per project at most <see cref="JobOptions.MaxRunningPerProject"/> run, up to
/// <see cref="JobOptions.MaxQueuedPerProject"/> wait in submission order. Stops jobs by project (halt, permit ended: the
/// runtime kills the whole project and removes its plaintext) or by member (access revoked), and all of them at shutdown.
/// </summary>
internal sealed class JobScheduler(IOptions<JobOptions> options, JobRunner runner, JobRecorder recorder, IWorkspaceRuntime runtime) : IHostedService
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ProjectJobs> _projects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobRun> _byId = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _running = [];
    private bool _stopping;

    /// <summary>
    /// Takes a place for a new job of <paramref name="projectId"/> in its queue; false when the queue is full. A place
    /// taken is given back by <see cref="Enqueue"/> or <see cref="Release"/>.
    /// </summary>
    public bool TryReserve(string projectId)
    {
        lock (_lock)
        {
            var project = ProjectOf(projectId);
            var limit = options.Value.MaxRunningPerProject + options.Value.MaxQueuedPerProject;
            if (_stopping || project.Running.Count + project.Queued.Count + project.Reserved >= limit)
            {
                return false;
            }

            project.Reserved++;
            return true;
        }
    }

    /// <summary>Gives back a place taken by <see cref="TryReserve"/> that was not used.</summary>
    public void Release(string projectId)
    {
        lock (_lock)
        {
            var project = ProjectOf(projectId);
            project.Reserved--;
            ForgetIfIdle(projectId, project);
        }
    }

    /// <summary>Queues a job whose row is written, in the place reserved for it, and starts it when a slot is free.</summary>
    public void Enqueue(JobRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        lock (_lock)
        {
            var project = ProjectOf(run.ProjectId);
            project.Reserved--;
            project.Queued.AddLast(run);
            _byId[run.Id] = run;
            PumpLocked(project);
        }
    }

    /// <summary>The job if this instance holds it (queued or running).</summary>
    public JobRun? Find(string jobId)
    {
        lock (_lock)
        {
            return _byId.GetValueOrDefault(jobId);
        }
    }

    /// <summary>Every job this instance holds, for the access watch.</summary>
    public IReadOnlyList<JobRun> Snapshot()
    {
        lock (_lock)
        {
            return [.. _byId.Values];
        }
    }

    /// <summary>True while any job is held.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count == 0;
            }
        }
    }

    /// <summary>
    /// Cancels a member's request: a queued job ends without running, a running one is stopped. Returns when its end is
    /// recorded (or <paramref name="cancellationToken"/> fires); false when this instance does not hold the job.
    /// </summary>
    public async Task<bool> CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var run = Find(jobId);
        if (run is null)
        {
            return false;
        }

        await StopAsync([run], WorkspaceStopReason.Requested);
        await run.Ended.WaitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Stops every job of the project for <paramref name="reason"/> (halt, permit ended): the queued ones end without
    /// running, and the runtime kills whatever of the project runs and removes its plaintext, whatever leases are held.
    /// </summary>
    public async Task StopProjectAsync(string projectId, WorkspaceStopReason reason)
    {
        List<JobRun> runs;
        lock (_lock)
        {
            runs = _byId.Values.Where(r => r.ProjectId == projectId).ToList();
        }

        await StopAsync(runs, reason);
        // Note: the runtime stops the project as a whole, so nothing of it keeps running and its plaintext goes even if a
        // job's own stop was lost in a race with its start (OPR-20, OPR-5).
        await runtime.StopProjectAsync(projectId, reason, CancellationToken.None);
    }

    /// <summary>Stops the jobs of one member of a project (access revoked); other members' jobs and the plaintext stay.</summary>
    public Task StopMemberAsync(string projectId, string accountId, WorkspaceStopReason reason)
    {
        List<JobRun> runs;
        lock (_lock)
        {
            runs = _byId.Values.Where(r => r.ProjectId == projectId && r.AccountId == accountId).ToList();
        }

        return StopAsync(runs, reason);
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<JobRun> runs;
        Task[] running;
        lock (_lock)
        {
            _stopping = true;
            runs = [.. _byId.Values];
            running = [.. _running];
        }

        await StopAsync(runs, WorkspaceStopReason.Shutdown);
        await Task.WhenAll(running).WaitAsync(cancellationToken);
    }

    private async Task StopAsync(IEnumerable<JobRun> runs, WorkspaceStopReason reason)
    {
        foreach (var run in runs)
        {
            bool wasQueued;
            lock (_lock)
            {
                wasQueued = _projects.TryGetValue(run.ProjectId, out var project) && project.Queued.Remove(run);
                if (wasQueued)
                {
                    _byId.Remove(run.Id);
                    ForgetIfIdle(run.ProjectId, project!);
                }
            }

            if (!run.Stop(reason) && !wasQueued)
            {
                continue;
            }

            if (wasQueued)
            {
                // Never ran: it ends here, without a sandbox.
                await recorder.MarkEndedAsync(run, JobEndReasons.StateOf(reason), null, JobEndReasons.Of(reason));
                run.Dispose();
            }
        }
    }

    private void PumpLocked(ProjectJobs project)
    {
        while (!_stopping && project.Running.Count < options.Value.MaxRunningPerProject && project.Queued.First is { } first)
        {
            project.Queued.RemoveFirst();
            var run = first.Value;
            project.Running.Add(run);
            var task = Task.Run(() => RunAsync(run, project));
            _running.Add(task);
            _ = task.ContinueWith(t =>
            {
                lock (_lock)
                {
                    _running.Remove(t);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task RunAsync(JobRun run, ProjectJobs project)
    {
        try
        {
            await runner.RunAsync(run, this);
        }
        finally
        {
            lock (_lock)
            {
                project.Running.Remove(run);
                _byId.Remove(run.Id);
                PumpLocked(project);
                ForgetIfIdle(run.ProjectId, project);
            }

            run.Dispose();
        }
    }

    private ProjectJobs ProjectOf(string projectId)
    {
        if (!_projects.TryGetValue(projectId, out var project))
        {
            _projects[projectId] = project = new ProjectJobs();
        }

        return project;
    }

    private void ForgetIfIdle(string projectId, ProjectJobs project)
    {
        if (project.Running.Count == 0 && project.Queued.Count == 0 && project.Reserved == 0)
        {
            _projects.Remove(projectId);
        }
    }

    private sealed class ProjectJobs
    {
        public LinkedList<JobRun> Queued { get; } = new();

        public HashSet<JobRun> Running { get; } = [];

        public int Reserved { get; set; }
    }
}
