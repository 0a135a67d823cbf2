using System.Runtime.Versioning;
using Microsoft.Extensions.Options;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>Checks <see cref="WorkspaceOptions"/> when the host starts, so a bad value stops it with one clear line.</summary>
[SupportedOSPlatform("linux")]
internal sealed class WorkspaceOptionsValidator : IValidateOptions<WorkspaceOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkspaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Path.IsPathFullyQualified(options.Root))
        {
            failures.Add($"{WorkspaceOptions.Section}:Root must be an absolute path");
        }

        if (!Path.IsPathFullyQualified(options.PlaintextRoot))
        {
            failures.Add($"{WorkspaceOptions.Section}:PlaintextRoot must be an absolute path");
        }
        else if (NearestExisting(options.PlaintextRoot) is not { } existing || !Native.IsMemoryBacked(existing))
        {
            // Note: refused because plaintext on a disk outlives a crash and reaches backups (SDR-4).
            failures.Add($"{WorkspaceOptions.Section}:PlaintextRoot {options.PlaintextRoot} is not on tmpfs or ramfs");
        }

        // Note: uids below 1000 are system accounts and 65534 is nobody; a project must never share one with the host.
        if (options.UidRangeStart < 1000 || options.UidRangeSize < 1 || (long)options.UidRangeStart + options.UidRangeSize > int.MaxValue
            || (options.UidRangeStart <= 65534 && options.UidRangeStart + options.UidRangeSize > 65534))
        {
            failures.Add($"{WorkspaceOptions.Section}:UidRangeStart/UidRangeSize must be a range above 1000 that leaves out 65534");
        }

        foreach (var (key, path) in new[] { ("BwrapPath", options.BwrapPath), ("SetprivPath", options.SetprivPath), ("PrlimitPath", options.PrlimitPath) })
        {
            if (!Path.IsPathFullyQualified(path))
            {
                failures.Add($"{WorkspaceOptions.Section}:{key} must be an absolute path");
            }
        }

        var limits = options.Limits;
        if (limits.MemoryBytes < 16L << 20 || limits.CpuCores <= 0 || limits.MaxProcesses < 8 || limits.MaxFileBytes < 1 || options.MaxOpenFiles < 64)
        {
            failures.Add($"{WorkspaceOptions.Section}:Limits need memory ≥ 16 MiB, CPU > 0, processes ≥ 8, file size ≥ 1, MaxOpenFiles ≥ 64");
        }

        foreach (var entry in options.EtcEntries)
        {
            if (entry.Length == 0 || entry.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(entry)
                || entry is "passwd" or "group" or "shadow" or "hosts" or "nsswitch.conf")
            {
                failures.Add($"{WorkspaceOptions.Section}:EtcEntries entry '{entry}' is not allowed (relative name under /etc, not a generated or secret file)");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The path itself or its nearest ancestor that exists (the plaintext root is created on first use).</summary>
    internal static string? NearestExisting(string path)
    {
        for (var current = Path.GetFullPath(path); current is not null; current = Path.GetDirectoryName(current))
        {
            if (Directory.Exists(current))
            {
                return current;
            }
        }

        return null;
    }
}
