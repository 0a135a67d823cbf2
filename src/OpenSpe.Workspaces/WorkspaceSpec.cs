namespace OpenSpe.Workspaces;

/// <summary>What to run in a project's sandbox, for whom, and within which limits.</summary>
public sealed record WorkspaceSpec
{
    /// <summary>The project whose sandbox this runs in (its files, its identity, its plaintext).</summary>
    public required string ProjectId { get; init; }

    /// <summary>The member on whose behalf it runs; their home is <c>/home/&lt;member&gt;</c>.</summary>
    public required string Member { get; init; }

    /// <summary>Program and arguments, resolved inside the sandbox (for example <c>["python3", "/project/a.py"]</c>).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Working directory inside the sandbox.</summary>
    public string WorkingDirectory { get; init; } = "/project";

    /// <summary>Extra environment variables; the sandbox starts from an empty environment, not the server's.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The project's plaintext, mounted read-only at <c>/data</c>; none mounts an empty <c>/data</c>.</summary>
    public IPlaintextLease? Data { get; init; }

    /// <summary>Resource limits for this process tree.</summary>
    public WorkspaceLimits Limits { get; init; } = WorkspaceLimits.Default;

    /// <summary>
    /// When true, the sandbox gets a private socket directory at <c>/run/workspace</c> whose sockets the host side can
    /// connect to through <see cref="IWorkspaceProcess.ConnectSocketAsync"/> (the desktop's VNC socket). No TCP.
    /// </summary>
    public bool ExposeSockets { get; init; }

    /// <summary>
    /// Programs of the SPE's own installation that the command runs (the federated components' runner and the .NET runtime
    /// it needs), each mounted read-only at its <see cref="ProgramMount.Target"/> under <c>/opt/openspe</c>. The single-node
    /// runtime binds host directories; a cluster runtime would ship them in the image.
    /// </summary>
    /// <remarks>
    /// Note: read-only and from the SPE's installation, never from the project's files, because whoever can write the
    /// program decides what it prints, and the SPE trusts a component's output only as far as it trusts its build.
    /// </remarks>
    public IReadOnlyList<ProgramMount> Programs { get; init; } = [];
}

/// <summary>A directory of the SPE's installation that a sandbox sees read-only.</summary>
/// <param name="Source">The directory on the host (absolute, no symbolic link at its end).</param>
/// <param name="Target">Where the sandbox sees it: <c>/opt/openspe/&lt;name&gt;</c>.</param>
public sealed record ProgramMount(string Source, string Target);

/// <summary>Resource limits of one sandboxed process tree.</summary>
/// <param name="MemoryBytes">Memory (cgroup memory limit, or address space through prlimit when no cgroup is usable).</param>
/// <param name="CpuCores">CPU share in cores (cgroup quota); prlimit cannot express this and then only CPU time is capped.</param>
/// <param name="MaxProcesses">Processes and threads (cgroup pids, or RLIMIT_NPROC under the project's uid).</param>
/// <param name="MaxFileBytes">Largest file a process may write (RLIMIT_FSIZE).</param>
/// <param name="CpuTime">CPU time (RLIMIT_CPU); null for none (desktops run for hours).</param>
public sealed record WorkspaceLimits(long MemoryBytes, double CpuCores, int MaxProcesses, long MaxFileBytes, TimeSpan? CpuTime)
{
    /// <summary>2 GiB, one core, 256 processes, 1 GiB files, no CPU-time cap.</summary>
    public static WorkspaceLimits Default { get; } = new(2L << 30, 1.0, 256, 1L << 30, null);
}

/// <summary>Why a sandboxed process was stopped by the SPE rather than ending by itself.</summary>
public enum WorkspaceStopReason
{
    /// <summary>A member asked (job cancel, desktop closed).</summary>
    Requested,
    /// <summary>The project or the SPE was halted.</summary>
    Halted,
    /// <summary>The permit expired, was revoked or suspended.</summary>
    PermitEnded,
    /// <summary>The member lost access (removed from the permit, account disabled).</summary>
    AccessRevoked,
    /// <summary>Idle or maximum session length reached.</summary>
    TimedOut,
    /// <summary>The server is shutting down.</summary>
    Shutdown,
    /// <summary>The job's output reached the limit of what is stored of it.</summary>
    OutputLimit,
}
