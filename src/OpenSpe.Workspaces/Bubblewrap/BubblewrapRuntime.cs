using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// The single-node workspace runtime: each process tree runs in a bubblewrap sandbox of its own namespaces, as its
/// project's unprivileged uid, seeing only /usr, a generated /etc, its project's directories and its plaintext.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class BubblewrapRuntime : IWorkspaceRuntime, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, BubblewrapProcess> running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> preparedProjects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ProjectStop> stops = new(StringComparer.Ordinal);
    private readonly WorkspaceOptions options;
    private readonly ProjectIdentities identities;
    private readonly TmpfsPlaintextStaging staging;
    private readonly CgroupV1? cgroups;
    private readonly ILogger logger;
    private readonly Lazy<WorkspaceAvailability> availability;

    public BubblewrapRuntime(WorkspaceOptions options, ProjectIdentities identities, TmpfsPlaintextStaging staging, ILogger<BubblewrapRuntime> logger)
    {
        this.options = options;
        this.identities = identities;
        this.staging = staging;
        this.logger = logger;
        // Note: one cgroup scope per workspace root, so two runtimes on one host (tests, a second instance) never sweep
        // or kill each other's sandboxes.
        cgroups = options.UseCgroups ? CgroupV1.TryDiscover("openspe-" + ScopeSuffix(options.Root)) : null;
        if (cgroups is null)
        {
            Log.PrlimitOnly(logger);
        }
        else
        {
            Log.CgroupsInUse(logger, string.Join(",", cgroups.ControllerNames));
        }

        availability = new Lazy<WorkspaceAvailability>(CheckAvailability);
        SweepLeftovers();
    }

    public WorkspaceAvailability Availability => availability.Value;

    /// <summary>Which cgroup controllers limit the sandboxes (empty when prlimit alone does).</summary>
    internal IReadOnlyCollection<string> CgroupControllers => cgroups?.ControllerNames ?? [];

    public async Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        cancellationToken.ThrowIfCancellationRequested();
        WorkspaceNames.CheckProject(spec.ProjectId);
        WorkspaceNames.CheckMember(spec.Member);
        if (spec.Command.Count == 0 || !spec.WorkingDirectory.StartsWith('/'))
        {
            throw new WorkspaceStartException("The command is empty or the working directory is not absolute.");
        }

        foreach (var program in spec.Programs)
        {
            WorkspaceNames.CheckProgram(program, options);
        }

        if (!Availability.IsAvailable)
        {
            throw new WorkspaceStartException(Availability.Reason);
        }

        var stopBefore = stops.GetValueOrDefault(spec.ProjectId);
        var id = Guid.NewGuid().ToString("N");
        var runDirectory = Path.Join(options.Root, "run", id);
        CgroupScope? scope = null;
        try
        {
            var host = Prepare(spec, id, runDirectory, out scope);
            var limits = options.Limits.Clamp(spec.Limits);
            var start = new ProcessStartInfo("/bin/sh")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = "/",
            };
            // Note: the launcher starts from an empty environment too, so nothing of the server's (connection strings,
            // key paths) is even passed to bubblewrap, which clears it again for the sandbox.
            start.Environment.Clear();
            foreach (var argument in SandboxCommand.Build(options, spec, limits, host))
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new WorkspaceStartException("The sandbox launcher did not start.");
            var sandbox = new BubblewrapProcess(id, spec, host.Uid, process, scope, runDirectory, host.SocketDirectory, logger, ended => running.TryRemove(ended.Id, out _));
            running[id] = sandbox;
            // Note: a StopProjectAsync that ran while this sandbox was being set up did not see it; it counts its stops
            // before it looks, so a changed count here means the project was halted meanwhile and this sandbox goes too.
            if (stops.GetValueOrDefault(spec.ProjectId) is { } stop && stop != stopBefore)
            {
                await sandbox.StopAsync(stop.Reason, CancellationToken.None);
                throw new WorkspaceStartException("The project was stopped while the sandbox started.");
            }

            Log.SandboxStarted(logger, id, spec.ProjectId, spec.Member);
            return sandbox;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or WorkspaceStartException)
        {
            Log.StartFailed(logger, spec.ProjectId, ex.GetType().Name, ex);
            scope?.Dispose();
            TryDelete(runDirectory);
            throw ex as WorkspaceStartException ?? new WorkspaceStartException("The sandbox could not be set up: " + ex.Message, ex);
        }
    }

    public async Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken)
    {
        stops.AddOrUpdate(projectId, new ProjectStop(1, reason), (_, previous) => new ProjectStop(previous.Count + 1, reason));
        var victims = running.Values.Where(p => p.ProjectId == projectId).ToList();
        await Task.WhenAll(victims.Select(p => p.StopAsync(reason, cancellationToken)));
        // Note: the plaintext goes even when leases are held: a halt outranks any running work (issue 13, item 7).
        await staging.RemoveAsync(projectId, cancellationToken);
        Log.ProjectStopped(logger, victims.Count, projectId, reason);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(running.Values.Select(p => p.StopAsync(WorkspaceStopReason.Shutdown, CancellationToken.None)));
        cgroups?.RemoveScope();
    }

    /// <summary>Creates a project's host tree (<c>project</c>, <c>outputs</c>, <c>home</c>) where it is missing.</summary>
    internal static void EnsureProjectTree(WorkspaceOptions options, string projectId, int uid)
    {
        var projectRoot = Path.Join(options.Root, "projects", projectId);
        HostFiles.Directory(options.Root, HostFiles.Mode0711);
        HostFiles.Directory(Path.Join(options.Root, "projects"), HostFiles.Mode0711);
        // Note: each project's tree is owned by its uid and closed to everyone else, so even a sandbox escape to
        // another project's uid finds nothing to read here.
        HostFiles.Directory(projectRoot, HostFiles.Mode0700, uid);
        HostFiles.Directory(Path.Join(projectRoot, "project"), HostFiles.Mode0700, uid);
        HostFiles.Directory(Path.Join(projectRoot, "outputs"), HostFiles.Mode0700, uid);
        HostFiles.Directory(Path.Join(projectRoot, "home"), HostFiles.Mode0700, uid);
    }

    private SandboxHost Prepare(WorkspaceSpec spec, string id, string runDirectory, out CgroupScope? scope)
    {
        scope = null;
        var uid = identities.UidOf(spec.ProjectId);
        var projectRoot = Path.Join(options.Root, "projects", spec.ProjectId);
        var home = Path.Join(projectRoot, "home", spec.Member);
        if (!preparedProjects.ContainsKey(spec.ProjectId))
        {
            EnsureProjectTree(options, spec.ProjectId, uid);
            preparedProjects[spec.ProjectId] = true;
        }

        if (!Directory.Exists(home))
        {
            HostFiles.Directory(home, HostFiles.Mode0700, uid);
        }

        string? data = null;
        if (spec.Data is { } lease)
        {
            if (lease is not TmpfsPlaintextStaging.Lease ours || !ours.IsFrom(staging) || lease.ProjectId != spec.ProjectId)
            {
                throw new WorkspaceStartException("The plaintext lease is not this project's staging.");
            }

            if (!lease.IsValid)
            {
                throw new WorkspaceStartException("The project's plaintext was removed (halt or permit end).");
            }

            data = ours.Directory;
        }

        HostFiles.Directory(Path.Join(options.Root, "run"), HostFiles.Mode0711);
        HostFiles.Directory(runDirectory, HostFiles.Mode0711);
        var etc = Path.Join(runDirectory, "etc");
        HostFiles.Directory(etc, HostFiles.Mode0755);
        foreach (var (name, content) in SandboxCommand.EtcFiles(spec.Member, uid))
        {
            HostFiles.Text(Path.Join(etc, name), content, HostFiles.Mode0644);
        }

        string? sockets = null;
        if (spec.ExposeSockets)
        {
            sockets = Path.Join(runDirectory, "sockets");
            HostFiles.Directory(sockets, HostFiles.Mode0700, uid);
        }

        var limits = options.Limits.Clamp(spec.Limits);
        scope = cgroups?.Create(id, limits);
        return new SandboxHost(
            uid, etc, Path.Join(projectRoot, "project"), Path.Join(projectRoot, "outputs"), home, data, sockets,
            scope?.ProcsFiles.ToList() ?? [],
            MemoryByCgroup: cgroups?.HasMemory == true,
            ProcessesByCgroup: cgroups?.ControllerNames.Contains("pids") == true);
    }

    /// <summary>
    /// Removes what an earlier run of the server left behind when it died without stopping its sandboxes: their
    /// processes and cgroups, run directories, and above all staged plaintext, which would otherwise stay in memory
    /// until the host reboots (SDR-4).
    /// </summary>
    private void SweepLeftovers()
    {
        var cgroupCount = cgroups?.SweepAsync(CancellationToken.None).GetAwaiter().GetResult() ?? 0;
        var runCount = ClearDirectory(Path.Join(options.Root, "run"));
        var plaintextCount = ClearDirectory(options.PlaintextRoot);
        if (cgroupCount + runCount + plaintextCount > 0)
        {
            Log.LeftoversRemoved(logger, plaintextCount, runCount, cgroupCount);
        }
    }

    private static int ClearDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var count = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            try
            {
                if (Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null)
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }

                count++;
            }
            catch (DirectoryNotFoundException)
            {
                // Removed meanwhile by the sandbox's own clean-up.
            }
        }

        return count;
    }

    private static string ScopeSuffix(string root) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(root))))[..12];

    private WorkspaceAvailability CheckAvailability()
    {
        foreach (var path in new[] { options.BwrapPath, options.SetprivPath, options.PrlimitPath, "/bin/sh" })
        {
            if (!File.Exists(path))
            {
                return new WorkspaceAvailability(false, $"{path} is missing: install bubblewrap and util-linux (see docs/workspaces.md).");
            }
        }

        const string userNamespaces = "/proc/sys/user/max_user_namespaces";
        if (File.Exists(userNamespaces) && File.ReadAllText(userNamespaces).Trim() == "0")
        {
            return new WorkspaceAvailability(false, "The kernel allows no user namespaces (user.max_user_namespaces = 0).");
        }

        var missing = options.Tools.Where(tool => !File.Exists($"/var/lib/dpkg/info/{tool}.list") && !File.Exists($"/var/lib/dpkg/info/{tool}:amd64.list")).ToList();
        if (missing.Count > 0)
        {
            Log.ToolsMissing(logger, string.Join(" ", missing));
        }

        return new WorkspaceAvailability(true, "");
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(logger, Path.GetFileName(directory), ex.GetType().Name);
        }
    }

    /// <summary>How many times a project was stopped, and why the last time.</summary>
    private sealed record ProjectStop(int Count, WorkspaceStopReason Reason);
}
