using System.Runtime.Versioning;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>One running sandbox: the launcher process (which became bubblewrap), its cgroups and its run directory.</summary>
[SupportedOSPlatform("linux")]
internal sealed class BubblewrapProcess : IWorkspaceProcess
{
    private const int SignalXcpu = 24;
    private const int SignalXfsz = 25;
    private readonly Process process;
    private readonly CgroupScope? cgroups;
    private readonly string runDirectory;
    private readonly string? socketDirectory;
    private readonly int uid;
    private readonly ILogger logger;
    private readonly Action<BubblewrapProcess> onEnded;
    private WorkspaceStopReason? stoppedBy;
    private int stopRequested;

    public BubblewrapProcess(
        string id, WorkspaceSpec spec, int uid, Process process, CgroupScope? cgroups, string runDirectory, string? socketDirectory,
        ILogger logger, Action<BubblewrapProcess> onEnded)
    {
        this.uid = uid;
        Id = id;
        ProjectId = spec.ProjectId;
        Member = spec.Member;
        this.process = process;
        this.cgroups = cgroups;
        this.runDirectory = runDirectory;
        this.socketDirectory = socketDirectory;
        this.logger = logger;
        this.onEnded = onEnded;
        Completion = WaitAsync();
    }

    /// <summary>The sandbox's name in logs and cgroups.</summary>
    public string Id { get; }

    public string ProjectId { get; }

    public string Member { get; }

    public Stream StandardInput => process.StandardInput.BaseStream;

    public Stream StandardOutput => process.StandardOutput.BaseStream;

    public Stream StandardError => process.StandardError.BaseStream;

    public Task<WorkspaceExit> Completion { get; }

    /// <summary>The launcher's host pid (bubblewrap's outer process), for tests.</summary>
    internal int HostPid => process.Id;

    public async Task StopAsync(WorkspaceStopReason reason, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref stopRequested, 1) == 0)
        {
            stoppedBy = reason;
            Log.SandboxStopping(logger, Id, reason);
        }

        await KillAsync(cancellationToken);
        await Completion.WaitAsync(cancellationToken);
    }

    public async Task<Stream> ConnectSocketAsync(string name, CancellationToken cancellationToken)
    {
        if (socketDirectory is null)
        {
            throw new InvalidOperationException("The sandbox was started without ExposeSockets.");
        }

        if (!WorkspaceNames.IsSocketName(name))
        {
            throw new ArgumentException("The socket name must be a plain file name.", nameof(name));
        }

        var path = Path.Join(socketDirectory, name);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            // Note: the sandbox owns this directory, so "name" may be a symlink to a host socket (a database, a container
            // daemon) that the server, as root, would then connect to and feed with a remote user's bytes. A check of the
            // path before connecting could be raced; the peer's credentials after connecting cannot: only a socket a
            // process of this project's uid listens on is accepted, before a single byte is sent.
            if (PeerUid(socket) != uid)
            {
                throw new UnauthorizedAccessException($"The socket {name} is not served from inside the sandbox.");
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The uid of the process at the other end of a connected UNIX socket (SO_PEERCRED), or -1.</summary>
    private static int PeerUid(Socket socket)
    {
        const int solSocket = 1;
        const int soPeerCred = 17;
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var length = socket.GetRawSocketOption(solSocket, soPeerCred, credentials);
        return length >= 8 ? BitConverter.ToInt32(credentials[4..8]) : -1;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Completion.IsCompleted)
        {
            await StopAsync(WorkspaceStopReason.Requested, CancellationToken.None);
        }

        process.Dispose();
    }

    private async Task KillAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Note: killing bubblewrap's outer process makes the kernel kill the sandbox's pid 1 (--die-with-parent),
            // and with it every process of the pid namespace; the cgroup sweep below catches anything that got out of it.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already ended.
        }

        if (cgroups is not null)
        {
            await cgroups.KillAllAsync(cancellationToken);
        }
    }

    private async Task<WorkspaceExit> WaitAsync()
    {
        await process.WaitForExitAsync();
        var exitCode = process.ExitCode;
        var limitHit = exitCode is 128 + SignalXcpu or 128 + SignalXfsz;
        try
        {
            if (cgroups is not null)
            {
                await cgroups.KillAllAsync(CancellationToken.None);
                limitHit |= cgroups.MemoryLimitHit();
                cgroups.Dispose();
            }

            Directory.Delete(runDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(logger, Id, ex.GetType().Name);
        }

        onEnded(this);
        var exit = new WorkspaceExit(exitCode, stoppedBy, limitHit);
        Log.SandboxEnded(logger, Id, exitCode, stoppedBy?.ToString() ?? "none", limitHit);
        return exit;
    }
}
