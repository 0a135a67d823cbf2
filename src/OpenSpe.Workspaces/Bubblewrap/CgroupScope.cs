using System.Globalization;
using System.Runtime.Versioning;

namespace OpenSpe.Workspaces.Bubblewrap;

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
