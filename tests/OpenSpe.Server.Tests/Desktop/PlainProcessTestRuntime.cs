using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Desktop;

/// <summary>
/// TEST ONLY, NOT A SANDBOX: runs a workspace command as a plain child process of the test, with a temporary directory standing
/// in for <c>/run/workspace</c> (every <c>/run/workspace</c> in the command is rewritten to it). It isolates nothing; it lets the
/// gateway's tests run against a real Xtigervnc where bubblewrap is not available. The real runtime is used where it is.
/// </summary>
internal sealed class PlainProcessTestRuntime : IWorkspaceRuntime, IDisposable
{
    private readonly ConcurrentBag<PlainProcess> _processes = [];

    public WorkspaceAvailability Availability { get; } = new(true, "");

    public Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken)
    {
        var run = Directory.CreateTempSubdirectory("spe-test-run-");
        var start = new ProcessStartInfo(spec.Command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = run.FullName,
        };
        foreach (var argument in spec.Command.Skip(1))
        {
            start.ArgumentList.Add(argument.Replace("/run/workspace", run.FullName, StringComparison.Ordinal));
        }

        start.Environment.Clear();
        foreach (var (name, value) in spec.Environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["HOME"] = run.FullName;
        var process = Process.Start(start) ?? throw new WorkspaceStartException("the test process did not start");
        var plain = new PlainProcess(spec, process, run);
        _processes.Add(plain);
        return Task.FromResult<IWorkspaceProcess>(plain);
    }

    public async Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken)
    {
        foreach (var process in _processes.Where(p => p.ProjectId == projectId))
        {
            await process.StopAsync(reason, cancellationToken);
        }
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Kill();
        }
    }

    private sealed class PlainProcess : IWorkspaceProcess
    {
        private readonly Process _process;
        private readonly DirectoryInfo _run;
        private readonly TaskCompletionSource<WorkspaceExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private WorkspaceStopReason? _stoppedBy;

        public PlainProcess(WorkspaceSpec spec, Process process, DirectoryInfo run)
        {
            ProjectId = spec.ProjectId;
            Member = spec.Member;
            _process = process;
            _run = run;
            _ = WaitAsync();
        }

        public string ProjectId { get; }

        public string Member { get; }

        public Stream StandardInput => _process.StandardInput.BaseStream;

        public Stream StandardOutput => _process.StandardOutput.BaseStream;

        public Stream StandardError => _process.StandardError.BaseStream;

        public Task<WorkspaceExit> Completion => _exit.Task;

        public async Task StopAsync(WorkspaceStopReason reason, CancellationToken cancellationToken)
        {
            _stoppedBy ??= reason;
            Kill();
            await _exit.Task.WaitAsync(cancellationToken);
        }

        public async Task<Stream> ConnectSocketAsync(string name, CancellationToken cancellationToken)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_run.FullName, name)), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public void Kill()
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await _exit.Task;
            _process.Dispose();
        }

        private async Task WaitAsync()
        {
            // Drain the output so a chatty X server never blocks on a full pipe.
            var output = _process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            var error = _process.StandardError.BaseStream.CopyToAsync(Stream.Null);
            await _process.WaitForExitAsync();
            await Task.WhenAll(output, error);
            try
            {
                _run.Delete(recursive: true);
            }
            catch (IOException)
            {
            }

            _exit.TrySetResult(new WorkspaceExit(_process.ExitCode, _stoppedBy, false));
        }
    }
}
