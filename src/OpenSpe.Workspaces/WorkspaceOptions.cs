namespace OpenSpe.Workspaces;

/// <summary>
/// Configuration of the single-node (bubblewrap) workspace runtime, section <c>Workspaces</c>. Validated when the host
/// starts: a wrong path or a plaintext root on a disk stops the server with one line.
/// </summary>
public sealed class WorkspaceOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Workspaces";

    /// <summary>Host directory for the projects' persistent files (<c>/project</c>, homes, <c>/outputs</c>) and the uid map.</summary>
    public string Root { get; set; } = "/var/lib/openspe/workspaces";

    /// <summary>Host directory for decrypted datasets; must be on tmpfs or ramfs (SDR-4: plaintext never touches a disk).</summary>
    public string PlaintextRoot { get; set; } = "/dev/shm/openspe-plaintext";

    /// <summary>First host uid (and gid) given to a project; each project gets its own, never shared.</summary>
    public int UidRangeStart { get; set; } = 200_000;

    /// <summary>How many uids the range holds (the most projects this host can ever run).</summary>
    public int UidRangeSize { get; set; } = 50_000;

    /// <summary>The bubblewrap executable.</summary>
    public string BwrapPath { get; set; } = "/usr/bin/bwrap";

    /// <summary>util-linux <c>setpriv</c>, which drops to the project's uid before bubblewrap runs.</summary>
    public string SetprivPath { get; set; } = "/usr/bin/setpriv";

    /// <summary>util-linux <c>prlimit</c>, which sets the rlimits that are the floor under the cgroup limits.</summary>
    public string PrlimitPath { get; set; } = "/usr/bin/prlimit";

    /// <summary>Whether to put each sandbox in its own cgroup (memory, pids, cpu) when the host lets us; prlimit is always applied.</summary>
    public bool UseCgroups { get; set; } = true;

    /// <summary>Open files per process (RLIMIT_NOFILE).</summary>
    public int MaxOpenFiles { get; set; } = 4096;

    /// <summary>
    /// The operator's ceiling for a sandbox's limits: a request for more is cut down to these.
    /// </summary>
    public WorkspaceLimitsOptions Limits { get; set; } = new();

    /// <summary>
    /// Host <c>/etc</c> entries the sandbox sees read-only (only those that exist). Everything else of the host
    /// <c>/etc</c> stays hidden; passwd, group, hosts and nsswitch.conf are generated per sandbox.
    /// </summary>
    public IList<string> EtcEntries { get; } = ["ld.so.cache", "alternatives", "R", "matplotlibrc", "jupyter", "fonts", "xdg", "mime.types", "localtime"];

    /// <summary>
    /// The Debian packages the operator wants in the workspace image (the image is the host's read-only <c>/usr</c>);
    /// <c>deploy/install-workspace-tools.sh</c> installs them, the runtime only reports which are missing.
    /// </summary>
    public IList<string> Tools { get; } =
    [
        "python3", "python3-numpy", "python3-pandas", "python3-scipy", "python3-statsmodels", "python3-matplotlib",
        "r-base-core", "jupyter-notebook", "xterm", "nano", "vim-tiny",
    ];
}

/// <summary>The operator's ceiling for sandbox limits (see <see cref="WorkspaceLimits"/>).</summary>
public sealed class WorkspaceLimitsOptions
{
    /// <summary>Memory per sandbox.</summary>
    public long MemoryBytes { get; set; } = 8L << 30;

    /// <summary>CPU cores per sandbox.</summary>
    public double CpuCores { get; set; } = 2.0;

    /// <summary>Processes and threads per sandbox.</summary>
    public int MaxProcesses { get; set; } = 1024;

    /// <summary>Largest file a sandbox may write.</summary>
    public long MaxFileBytes { get; set; } = 16L << 30;

    /// <summary>Applies this ceiling to <paramref name="requested"/>.</summary>
    public WorkspaceLimits Clamp(WorkspaceLimits requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        return new WorkspaceLimits(
            Math.Min(requested.MemoryBytes, MemoryBytes),
            Math.Min(requested.CpuCores, CpuCores),
            Math.Min(requested.MaxProcesses, MaxProcesses),
            Math.Min(requested.MaxFileBytes, MaxFileBytes),
            requested.CpuTime);
    }
}
