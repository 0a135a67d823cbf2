using System.Collections.Concurrent;
using System.Diagnostics;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Workspaces;

/// <summary>
/// TEST-ONLY, NO ISOLATION: runs a job's command as a plain child process of the test host, with a temporary directory as
/// its working directory and staged plaintext, so the queueing, streaming, cancel and stop logic of the jobs module can be
/// tested where bubblewrap is absent. Nothing that claims isolation or reads /data runs on it (see <c>SandboxJobTests</c>).
/// </summary>
internal sealed class UnisolatedTestRuntime : IWorkspaceRuntime, IPlaintextStaging, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "spe-unisolated-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentDictionary<Child, string> _children = new();
    private readonly ConcurrentDictionary<string, Staged> _staged = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<WorkspaceSpec> _starts = System.Threading.Channels.Channel.CreateUnbounded<WorkspaceSpec>();
    private int _startCount;

    public WorkspaceAvailability Availability { get; } = new(true, "");

    /// <summary>How many processes were started.</summary>
    public int StartCount => Volatile.Read(ref _startCount);

    /// <summary>The next start (awaitable: no sleeping in tests).</summary>
    public async Task<WorkspaceSpec> NextStartAsync() => await _starts.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    public Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var directory = Directory.CreateDirectory(Path.Combine(_root, spec.ProjectId, "project")).FullName;
        var info = new ProcessStartInfo(spec.Command[0])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in spec.Command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        var process = Process.Start(info) ?? throw new WorkspaceStartException("no process");
        var child = new Child(spec, process, this);
        _children[child] = spec.ProjectId;
        Interlocked.Increment(ref _startCount);
        _starts.Writer.TryWrite(spec);
        return Task.FromResult<IWorkspaceProcess>(child);
    }

    public async Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken)
    {
        foreach (var child in _children.Where(c => c.Value == projectId).Select(c => c.Key).ToList())
        {
            await child.StopAsync(reason, cancellationToken);
        }

        if (_staged.TryRemove(projectId, out var staged))
        {
            staged.Remove();
        }
    }

    public async Task<IPlaintextLease> AcquireAsync(string projectId, Func<CancellationToken, Task<IReadOnlyCollection<string>>> datasets,
        Func<IPlaintextWriter, IReadOnlyCollection<string>, CancellationToken, Task> populate, CancellationToken cancellationToken)
    {
        var staged = _staged.GetOrAdd(projectId, p => new Staged(Path.Combine(_root, p, "data")));
        await staged.Fill.WaitAsync(cancellationToken);
        try
        {
            if (!staged.Filled)
            {
                Directory.CreateDirectory(staged.Path);
                await populate(new Writer(staged.Path), await datasets(cancellationToken), cancellationToken);
                staged.Filled = true;
            }

            Interlocked.Increment(ref staged.Leases);
            return new Lease(projectId, staged, this);
        }
        finally
        {
            staged.Fill.Release();
        }
    }

    public Task RetainAsync(string projectId, IReadOnlyCollection<string> datasets, CancellationToken cancellationToken)
    {
        if (_staged.TryGetValue(projectId, out var staged) && Directory.Exists(staged.Path))
        {
            foreach (var directory in Directory.GetDirectories(staged.Path).Where(d => !datasets.Contains(Path.GetFileName(d))))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string projectId, CancellationToken cancellationToken)
    {
        if (_staged.TryRemove(projectId, out var staged))
        {
            staged.Remove();
        }

        return Task.CompletedTask;
    }

    public bool IsStaged(string projectId) => _staged.TryGetValue(projectId, out var s) && s.Filled && Directory.Exists(s.Path);

    public void Dispose()
    {
        foreach (var child in _children.Keys)
        {
            child.Kill();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private void Release(string projectId, Staged staged)
    {
        if (Interlocked.Decrement(ref staged.Leases) == 0 && _staged.TryRemove(new KeyValuePair<string, Staged>(projectId, staged)))
        {
            staged.Remove();
        }
    }

    private sealed class Staged(string path)
    {
        public string Path { get; } = path;

        public SemaphoreSlim Fill { get; } = new(1, 1);

        public bool Filled { get; set; }

#pragma warning disable CA1051 // Interlocked needs a field.
        public int Leases;
#pragma warning restore CA1051

        public bool Removed { get; private set; }

        public void Remove()
        {
            Removed = true;
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }

    private sealed class Lease(string projectId, Staged staged, UnisolatedTestRuntime runtime) : IPlaintextLease
    {
        private int _released;

        public string ProjectId { get; } = projectId;

        public bool IsValid => !staged.Removed;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                runtime.Release(ProjectId, staged);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class Writer(string root) : IPlaintextWriter
    {
        public Stream Create(string relativePath)
        {
            var path = Path.Combine(root, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return File.Create(path);
        }
    }

    private sealed class Child : IWorkspaceProcess
    {
        private readonly Process _process;
        private readonly UnisolatedTestRuntime _runtime;
        private WorkspaceStopReason? _stoppedBy;

        public Child(WorkspaceSpec spec, Process process, UnisolatedTestRuntime runtime)
        {
            ProjectId = spec.ProjectId;
            Member = spec.Member;
            _process = process;
            _runtime = runtime;
            Completion = WaitAsync();
        }

        public string ProjectId { get; }

        public string Member { get; }

        public Stream StandardInput => _process.StandardInput.BaseStream;

        public Stream StandardOutput => _process.StandardOutput.BaseStream;

        public Stream StandardError => _process.StandardError.BaseStream;

        public Task<WorkspaceExit> Completion { get; }

        public async Task StopAsync(WorkspaceStopReason reason, CancellationToken cancellationToken)
        {
            _stoppedBy ??= reason;
            Kill();
            await Completion.WaitAsync(cancellationToken);
        }

        public Task<Stream> ConnectSocketAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();

        public void Kill()
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Ended already.
            }
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await Completion;
            _runtime._children.TryRemove(this, out _);
            _process.Dispose();
        }

        private async Task<WorkspaceExit> WaitAsync()
        {
            await _process.WaitForExitAsync();
            return new WorkspaceExit(_process.ExitCode, _stoppedBy, false);
        }
    }
}
