namespace OpenSpe.Federation.Data;

/// <summary>Finds a file a request names inside the node's dataset directory, and never outside it.</summary>
internal static class DatasetFiles
{
    /// <summary>
    /// The full path of <paramref name="name"/> in <paramref name="directory"/>; with no name, the directory's only file
    /// ending in <paramref name="extension"/>. Null with <paramref name="error"/> set when there is no such single file.
    /// </summary>
    public static string? Resolve(string directory, string? name, string extension, out string error)
    {
        error = string.Empty;
        if (!Directory.Exists(directory))
        {
            error = "the dataset directory does not exist";
            return null;
        }

        if (string.IsNullOrEmpty(name))
        {
            var candidates = Directory.GetFiles(directory, "*" + extension, SearchOption.TopDirectoryOnly);
            if (candidates.Length == 1)
            {
                return candidates[0];
            }

            error = $"the dataset has {candidates.Length} {extension} files: name the table";
            return null;
        }

        // Note: only a plain file name is accepted, because a path ('../', '/', a sub-folder) could reach files outside
        // the dataset the permit gives this node.
        if (name != Path.GetFileName(name) || name is "." or ".." || name.Contains('\\', StringComparison.Ordinal))
        {
            error = "the table must be a file name in the dataset, without a path";
            return null;
        }

        var path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            error = $"the dataset has no file '{name}'";
            return null;
        }

        return path;
    }
}
