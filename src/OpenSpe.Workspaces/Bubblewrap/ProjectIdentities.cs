using System.Globalization;
using System.Runtime.Versioning;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// Gives each project its own host uid (and the same gid) from the configured range, persisted under the workspace
/// root so a project keeps its uid across restarts (its files on disk stay its own).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ProjectIdentities
{
    private const string FileName = "project-uids.tsv";
    private readonly object gate = new();
    private readonly string path;
    private readonly int start;
    private readonly int size;
    private Dictionary<string, int>? map;

    public ProjectIdentities(WorkspaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        path = Path.Combine(options.Root, FileName);
        start = options.UidRangeStart;
        size = options.UidRangeSize;
    }

    /// <summary>The project's uid if it has one (it ran a sandbox), without allocating one.</summary>
    public int? Find(string projectId)
    {
        lock (gate)
        {
            map ??= Load();
            return map.TryGetValue(projectId, out var uid) ? uid : null;
        }
    }

    /// <summary>The project's uid, allocating and persisting one on first use.</summary>
    public int UidOf(string projectId)
    {
        lock (gate)
        {
            map ??= Load();
            if (map.TryGetValue(projectId, out var uid))
            {
                return uid;
            }

            // Note: two projects never share a uid: a uid once given is never given again, even after the project ends,
            // because files it left on disk would otherwise become readable by the next project.
            var used = map.Values.ToHashSet();
            var next = Enumerable.Range(start, size).FirstOrDefault(candidate => !used.Contains(candidate), -1);
            if (next < 0)
            {
                throw new WorkspaceStartException("The workspace uid range is exhausted; widen Workspaces:UidRangeSize.");
            }

            map[projectId] = next;
            Save(map);
            return next;
        }
    }

    private Dictionary<string, int> Load()
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return result;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
            {
                result[parts[0]] = uid;
            }
        }

        return result;
    }

    private void Save(Dictionary<string, int> entries)
    {
        HostFiles.Directory(Path.GetDirectoryName(path)!, HostFiles.Mode0711);
        var temporary = path + ".tmp";
        var lines = entries.OrderBy(e => e.Value).Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key}\t{e.Value}"));
        File.WriteAllLines(temporary, lines);
        File.SetUnixFileMode(temporary, HostFiles.Mode0600);
        // Note: write then rename, so a crash never leaves a half map that would hand a used uid out again.
        File.Move(temporary, path, overwrite: true);
    }
}
