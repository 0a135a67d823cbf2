using System.Globalization;
using System.Runtime.Versioning;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>What one sandbox start needs on the host side, already created.</summary>
/// <param name="Uid">The project's host uid (also its gid).</param>
/// <param name="EtcDirectory">Generated passwd, group, hosts, nsswitch.conf.</param>
/// <param name="ProjectDirectory">Host directory mounted at /project.</param>
/// <param name="OutputsDirectory">Host directory mounted at /outputs.</param>
/// <param name="HomeDirectory">Host directory mounted at /home/&lt;member&gt;.</param>
/// <param name="DataDirectory">Staged plaintext mounted read-only at /data, or null for an empty /data.</param>
/// <param name="SocketDirectory">Host directory mounted at /run/workspace, or null.</param>
/// <param name="CgroupProcsFiles">cgroup.procs files the launcher joins before it execs.</param>
/// <param name="MemoryByCgroup">Whether memory is capped by a cgroup (else RLIMIT_AS).</param>
/// <param name="ProcessesByCgroup">Whether processes are capped by a cgroup.</param>
[SupportedOSPlatform("linux")]
internal sealed record SandboxHost(
    int Uid,
    string EtcDirectory,
    string ProjectDirectory,
    string OutputsDirectory,
    string HomeDirectory,
    string? DataDirectory,
    string? SocketDirectory,
    IReadOnlyList<string> CgroupProcsFiles,
    bool MemoryByCgroup,
    bool ProcessesByCgroup);

/// <summary>Builds the launcher's argument vector: join cgroups, set rlimits, drop to the project uid, run bubblewrap.</summary>
[SupportedOSPlatform("linux")]
internal static class SandboxCommand
{
    /// <summary>The generated files under the sandbox's /etc.</summary>
    public static readonly string[] GeneratedEtcFiles = ["passwd", "group", "hosts", "nsswitch.conf", "hostname"];

    // Note: the launcher is a shell as host root only for the moment it needs: it writes its own pid into the
    // sandbox's cgroups (so bubblewrap and everything after it is born inside them, with no window), then execs
    // prlimit, which execs setpriv, which execs bubblewrap: one pid, the server's child, so --die-with-parent holds.
    private const string JoinCgroupsThenExec =
        "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; shift; n=$((n-1)); done; exec \"$@\"";

    public static IReadOnlyList<string> Build(WorkspaceOptions options, WorkspaceSpec spec, WorkspaceLimits limits, SandboxHost host)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(host);
        var args = new List<string> { "-c", JoinCgroupsThenExec, "openspe-launcher", Number(host.CgroupProcsFiles.Count) };
        args.AddRange(host.CgroupProcsFiles);

        args.Add(options.PrlimitPath);
        args.Add("--core=0"); // Note: no core dumps: a crashing analysis would write plaintext from memory to /project.
        args.Add("--nofile=" + Number(options.MaxOpenFiles));
        args.Add("--fsize=" + Number(limits.MaxFileBytes));
        // Note: RLIMIT_NPROC counts every process of the project's uid on the host; with a pids cgroup per sandbox it
        // only backs the operator's ceiling up, without one it is the limit.
        args.Add("--nproc=" + Number(host.ProcessesByCgroup ? options.Limits.MaxProcesses : limits.MaxProcesses));
        if (!host.MemoryByCgroup)
        {
            args.Add("--as=" + Number(limits.MemoryBytes));
        }

        if (limits.CpuTime is { } cpu)
        {
            // Note: soft limit first (SIGXCPU, which the runtime reports as a limit hit), SIGKILL one second later for a
            // process that ignores it. RLIMIT_CPU is per process, not per sandbox.
            var seconds = Math.Max(1, (long)Math.Ceiling(cpu.TotalSeconds));
            args.Add("--cpu=" + Number(seconds) + ":" + Number(seconds + 1));
        }

        args.Add("--");
        args.Add(options.SetprivPath);
        var uid = Number(host.Uid);
        // Note: bubblewrap runs as the unprivileged project uid, with no capabilities and no way to gain any: its user
        // namespace then maps only that uid, so files the sandbox writes belong to the project uid on the host, and
        // nothing inside can act as host root.
        args.AddRange(["--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]);

        args.Add(options.BwrapPath);
        // Note: own user, pid, ipc, uts, cgroup and network namespaces; the new network namespace has only loopback,
        // which is the sandbox's own: the host's 127.0.0.1 services and every outside address are unreachable (SPER-6).
        args.AddRange(["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv", "--hostname", "workspace"]);
        args.AddRange(["--ro-bind", "/usr", "/usr"]);
        foreach (var name in new[] { "bin", "sbin", "lib", "lib32", "lib64", "libx32" })
        {
            AddHostPath(args, "/" + name);
        }

        foreach (var file in GeneratedEtcFiles)
        {
            args.AddRange(["--ro-bind", Path.Join(host.EtcDirectory, file), "/etc/" + file]);
        }

        foreach (var entry in options.EtcEntries)
        {
            AddHostPath(args, "/etc/" + entry);
        }

        // Note: /tmp and /dev/shm are memory; each is capped at a quarter of the memory limit, so that without a memory
        // cgroup (prlimit only) writing files there cannot fill the host's RAM, and with one a full /tmp is a clear
        // "no space left" instead of an OOM kill.
        var tmpfsSize = Number(Math.Max(1L << 20, limits.MemoryBytes / 4));
        args.AddRange(["--proc", "/proc", "--dev", "/dev", "--size", tmpfsSize, "--tmpfs", "/dev/shm", "--size", tmpfsSize, "--tmpfs", "/tmp"]);
        if (host.DataDirectory is { } data)
        {
            args.AddRange(["--ro-bind", data, "/data"]);
        }
        else
        {
            args.AddRange(["--dir", "/data"]);
        }

        args.AddRange(["--bind", host.ProjectDirectory, "/project"]);
        args.AddRange(["--bind", host.OutputsDirectory, "/outputs"]);
        args.AddRange(["--bind", host.HomeDirectory, "/home/" + spec.Member]);
        if (host.SocketDirectory is { } sockets)
        {
            args.AddRange(["--bind", sockets, "/run/workspace"]);
        }

        foreach (var program in spec.Programs)
        {
            args.AddRange(["--ro-bind", program.Source, program.Target]);
        }

        // Note: the sandbox's root is a tmpfs owned by the sandbox user; remounting it read-only keeps an empty /data
        // and the system directories unwritable (only /tmp, /dev/shm, /project, /outputs and the home are writable).
        args.AddRange(["--remount-ro", "/"]);
        args.AddRange(["--chdir", spec.WorkingDirectory]);
        foreach (var (key, value) in Environment(spec))
        {
            args.AddRange(["--setenv", key, value]);
        }

        args.Add("--");
        args.AddRange(spec.Command);
        return args;
    }

    /// <summary>The sandbox's whole environment: a fixed base plus the spec's variables (never the server's).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment(WorkspaceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var home = "/home/" + spec.Member;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = home,
            ["USER"] = spec.Member,
            ["LOGNAME"] = spec.Member,
            ["LANG"] = "C.UTF-8",
            ["TMPDIR"] = "/tmp",
            ["SHELL"] = "/bin/sh",
            ["MPLBACKEND"] = "Agg",
        };
        foreach (var (key, value) in spec.Environment)
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new WorkspaceStartException($"The environment variable name '{key}' is not valid.");
            }

            variables[key] = value;
        }

        return variables;
    }

    /// <summary>The generated /etc files' contents, naming the project uid as the member (and nothing of the host).</summary>
    public static IReadOnlyDictionary<string, string> EtcFiles(string member, int uid)
    {
        var id = Number(uid);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["passwd"] = $"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n{member}:x:{id}:{id}:{member}:/home/{member}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            ["group"] = $"root:x:0:\n{member}:x:{id}:\nnogroup:x:65534:\n",
            ["hosts"] = "127.0.0.1\tlocalhost workspace\n::1\tlocalhost ip6-localhost\n",
            ["nsswitch.conf"] = "passwd: files\ngroup: files\nhosts: files\n",
            ["hostname"] = "workspace\n",
        };
    }

    private static void AddHostPath(List<string> args, string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target)
        {
            args.AddRange(["--symlink", target, path]);
        }
        else if (Directory.Exists(path) || File.Exists(path))
        {
            args.AddRange(["--ro-bind", path, path]);
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
