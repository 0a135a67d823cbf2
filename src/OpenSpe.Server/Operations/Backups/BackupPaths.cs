namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// Where a backup may go: never in the directory it backs up, inside it or around it. One check for <c>spe backup create</c>
/// and the scheduled backups' <c>Backup:Directory</c>.
/// </summary>
internal static class BackupPaths
{
    /// <summary>As many symbolic links as Linux follows in one path before it gives up (ELOOP).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// How <paramref name="output"/> overlaps <paramref name="directory"/> once both are resolved: <c>"is"</c>,
    /// <c>"is inside"</c> or <c>"contains"</c>; null when they lie apart.
    /// </summary>
    public static string? Overlap(string output, string directory)
    {
        // Note: both paths are resolved through the symbolic links of their existing parts, because a link that leads into
        // the data directory is the data directory as far as the next backup's walk and a restore are concerned.
        var target = Resolve(output);
        var root = Resolve(directory);
        if (target == root)
        {
            return "is";
        }

        return IsUnder(target, root) ? "is inside" : IsUnder(root, target) ? "contains" : null;
    }

    /// <summary>
    /// Why a backup cannot go to <paramref name="output"/> (it overlaps the data directory or the object store configured
    /// outside it), or null when it can.
    /// </summary>
    public static string? OutputProblem(string output, string dataDirectory, string? objectRoot)
    {
        // Note: refused because a backup inside the data directory (or the object store) is copied into the next backup, which
        // then doubles, and a restore brings the old backups back into the new data directory; one around it copies itself.
        var shown = Path.GetFullPath(output);
        if (Overlap(output, dataDirectory) is { } relation)
        {
            return $"{shown} {relation} the data directory {Path.GetFullPath(dataDirectory)}; a backup must go outside the data directory";
        }

        if (objectRoot is not null && Overlap(output, objectRoot) is { } store)
        {
            return $"{shown} {store} the object store {Path.GetFullPath(objectRoot)}; a backup must go outside the object store";
        }

        return null;
    }

    /// <summary>
    /// The absolute path with every symbolic link among its existing parts followed, as the kernel would (a <c>..</c> after
    /// a link goes up from the link's target); the parts that do not exist yet are kept as written.
    /// </summary>
    /// <exception cref="BackupException">More than <see cref="MaxLinks"/> links (a loop).</exception>
    internal static string Resolve(string path)
    {
        var absolute = Path.IsPathRooted(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path);
        var current = Path.GetPathRoot(absolute)!;
        var parts = Parts(absolute);
        var links = 0;
        for (var i = 0; i < parts.Count; i++)
        {
            if (parts[i] == ".")
            {
                continue;
            }

            if (parts[i] == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, parts[i]);
            if (new FileInfo(next).LinkTarget is { } link)
            {
                if (++links > MaxLinks)
                {
                    throw new BackupException($"{path} has too many symbolic links to resolve");
                }

                // Note: a relative link starts from the link's own directory, which is current, because the kernel reads it so.
                if (Path.IsPathRooted(link))
                {
                    current = Path.GetPathRoot(link)!;
                }

                parts = [.. Parts(link), .. parts[(i + 1)..]];
                i = -1;
                continue;
            }

            if (!Directory.Exists(next) && !File.Exists(next))
            {
                return Path.GetFullPath(Path.Combine([current, .. parts[i..]]));
            }

            current = next;
        }

        return current;
    }

    private static List<string> Parts(string path) =>
        [.. path[(Path.GetPathRoot(path)?.Length ?? 0)..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries)];

    private static bool IsUnder(string path, string root)
    {
        var withSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(withSeparator, StringComparison.Ordinal);
    }
}
