using System.Runtime.Versioning;
using System.Globalization;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// Per-sandbox cgroups on a cgroup v1 host (memory, pids, cpu controllers mounted separately). Each sandbox gets a
/// child of our own cgroup in each controller, named after the sandbox.
/// </summary>
/// <remarks>
/// Note: a cgroup v2-only host is not handled here yet; there the runtime falls back to prlimit alone (see
/// docs/workspaces.md). The kernel's own accounting is what makes the limits hold: the sandbox cannot leave its
/// cgroup because the cgroup files belong to host root, whom the sandbox's user namespace does not map.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class CgroupV1
{
    private static readonly string[] Controllers = ["memory", "pids", "cpu"];
    private readonly Dictionary<string, string> parents;

    private CgroupV1(Dictionary<string, string> parents) => this.parents = parents;

    /// <summary>The controllers in use (for the start-up log and the docs).</summary>
    public IReadOnlyCollection<string> ControllerNames => parents.Keys;

    /// <summary>Finds the writable v1 controllers, or null when none is (then only prlimit limits the sandbox).</summary>
    public static CgroupV1? TryDiscover(string scopeName)
    {
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var own = File.ReadAllLines("/proc/self/cgroup")
                .Select(line => line.Split(':', 3))
                .Where(parts => parts.Length == 3)
                .SelectMany(parts => parts[1].Split(',').Select(c => (Controller: c, Path: parts[2])))
                .ToDictionary(p => p.Controller, p => p.Path, StringComparer.Ordinal);
            foreach (var mount in File.ReadAllLines("/proc/self/mountinfo"))
            {
                // mountinfo: id parent major:minor root mountpoint options ... - fstype source superoptions
                var separator = mount.IndexOf(" - ", StringComparison.Ordinal);
                if (separator < 0)
                {
                    continue;
                }

                var fields = mount[..separator].Split(' ');
                var tail = mount[(separator + 3)..].Split(' ');
                if (tail.Length < 3 || tail[0] != "cgroup" || fields.Length < 5)
                {
                    continue;
                }

                var superOptions = tail[2].Split(',');
                foreach (var controller in Controllers.Where(c => superOptions.Contains(c) && own.ContainsKey(c)))
                {
                    var root = fields[3];
                    var path = own[controller];
                    // Note: our cgroup path is relative to the hierarchy's root; the mount shows the part under its root.
                    var relative = path.StartsWith(root, StringComparison.Ordinal) ? path[root.Length..] : path;
                    var parent = Path.Join(fields[4], relative.TrimStart('/'), scopeName);
                    try
                    {
                        HostFiles.Directory(parent, HostFiles.Mode0755);
                        parents[controller] = parent;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        // Not writable here (a rootless host or a read-only mount): that controller is not used.
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return parents.Count == 0 ? null : new CgroupV1(parents);
    }

    /// <summary>Whether the memory controller is in use (else memory falls back to RLIMIT_AS).</summary>
    public bool HasMemory => parents.ContainsKey("memory");

    /// <summary>Creates the sandbox's cgroups with its limits.</summary>
    public CgroupScope Create(string name, WorkspaceLimits limits)
    {
        var directories = new List<string>();
        try
        {
            foreach (var (controller, parent) in parents)
            {
                var directory = Path.Join(parent, name);
                HostFiles.Directory(directory, HostFiles.Mode0755);
                directories.Add(directory);
                switch (controller)
                {
                    case "memory":
                        Write(directory, "memory.limit_in_bytes", limits.MemoryBytes);
                        if (File.Exists(Path.Join(directory, "memory.memsw.limit_in_bytes")))
                        {
                            // Note: with swap accounting, memory + swap gets the same cap so a hog cannot page out and go on.
                            Write(directory, "memory.memsw.limit_in_bytes", limits.MemoryBytes);
                        }

                        break;
                    case "pids":
                        Write(directory, "pids.max", limits.MaxProcesses);
                        break;
                    case "cpu":
                        const long period = 100_000;
                        Write(directory, "cpu.cfs_period_us", period);
                        Write(directory, "cpu.cfs_quota_us", Math.Max(1000, (long)(limits.CpuCores * period)));
                        break;
                }
            }
        }
        catch
        {
            new CgroupScope(directories).Dispose();
            throw;
        }

        return new CgroupScope(directories);
    }

    private static void Write(string directory, string file, long value) =>
        File.WriteAllText(Path.Join(directory, file), value.ToString(CultureInfo.InvariantCulture));
}

/// <summary>One sandbox's cgroups: join, kill everything in them, tell whether memory ran out, remove.</summary>
[SupportedOSPlatform("linux")]
internal sealed class CgroupScope : IDisposable
{
    private readonly IReadOnlyList<string> directories;

    public CgroupScope(IReadOnlyList<string> directories) => this.directories = directories;

    /// <summary>The <c>cgroup.procs</c> files the launcher writes its pid into before it execs bubblewrap.</summary>
    public IEnumerable<string> ProcsFiles => directories.Select(d => Path.Join(d, "cgroup.procs"));

    /// <summary>Kills every process in the cgroups until none is left (a process forking meanwhile is caught next round).</summary>
    public async Task KillAllAsync(CancellationToken cancellationToken)
    {
        for (var round = 0; round < 200; round++)
        {
            var pids = ProcsFiles.SelectMany(ReadPids).Distinct().ToList();
            if (pids.Count == 0)
            {
                return;
            }

            foreach (var pid in pids)
            {
                Native.KillHard(pid);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    /// <summary>Whether the kernel's OOM killer acted in the memory cgroup.</summary>
    public bool MemoryLimitHit()
    {
        foreach (var directory in directories)
        {
            var control = Path.Join(directory, "memory.oom_control");
            if (File.Exists(control))
            {
                var line = File.ReadAllLines(control).FirstOrDefault(l => l.StartsWith("oom_kill ", StringComparison.Ordinal));
                if (line is not null && long.TryParse(line["oom_kill ".Length..], CultureInfo.InvariantCulture, out var kills) && kills > 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    public void Dispose()
    {
        foreach (var directory in directories)
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (IOException)
            {
                // Note: a cgroup with a process still in it cannot be removed; KillAllAsync ran first, so this is rare.
            }
        }
    }

    private static IEnumerable<int> ReadPids(string procs)
    {
        try
        {
            return File.ReadAllLines(procs).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }
}
