using System.ComponentModel.DataAnnotations;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>Code-to-data job settings (section <c>Jobs</c>).</summary>
internal sealed class JobOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Jobs";

    /// <summary>Jobs of one project that run at once; more wait in the project's queue.</summary>
    [Range(1, 64)]
    public int MaxRunningPerProject { get; set; } = 2;

    /// <summary>Jobs of one project that may wait; beyond that a submission is refused (429 <c>SPE6004</c>).</summary>
    [Range(0, 10_000)]
    public int MaxQueuedPerProject { get; set; } = 50;

    /// <summary>
    /// How often the access of running jobs is judged again by the access chain (permit expiry, and a change another
    /// instance made); changes made on this instance are judged at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan AccessCheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Memory of one job's process tree, in bytes.</summary>
    [Range(16L << 20, 1L << 40)]
    public long MemoryBytes { get; set; } = WorkspaceLimits.Default.MemoryBytes;

    /// <summary>CPU share of one job, in cores.</summary>
    [Range(0.05, 256)]
    public double CpuCores { get; set; } = WorkspaceLimits.Default.CpuCores;

    /// <summary>Processes and threads of one job.</summary>
    [Range(8, 100_000)]
    public int MaxProcesses { get; set; } = WorkspaceLimits.Default.MaxProcesses;

    /// <summary>Largest file one job may write, in bytes.</summary>
    [Range(1L << 20, 1L << 42)]
    public long MaxFileBytes { get; set; } = WorkspaceLimits.Default.MaxFileBytes;

    /// <summary>
    /// Bytes of one job's log (its output as stored, one JSON line per read, escaping included); past it the output is no longer
    /// kept and the job is stopped (end reason <c>log-limit</c>), because the log is written into the server's data directory.
    /// </summary>
    [Range(4L << 10, 1L << 40)]
    public long MaxLogBytes { get; set; } = 64L << 20;

    /// <summary>CPU time of one job; none when unset.</summary>
    public TimeSpan? CpuTime { get; set; }

    /// <summary>Where approved components live in the sandbox: <c>&lt;dir&gt;/&lt;name&gt;/&lt;version&gt;</c>.</summary>
    [Required, RegularExpression("^/project(/[A-Za-z0-9._-]+)+$")]
    public string ComponentDirectory { get; set; } = "/project/components";

    /// <summary>The limits of one job's sandbox.</summary>
    public WorkspaceLimits Limits => new(MemoryBytes, CpuCores, MaxProcesses, MaxFileBytes, CpuTime);
}
