using System.Runtime.Versioning;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>Creates a project's plaintext files inside its staging directory, owned by the project uid, read-only.</summary>
[SupportedOSPlatform("linux")]
internal sealed class PlaintextDirectoryWriter : IPlaintextWriter
{
    private readonly string root;
    private readonly int uid;

    public PlaintextDirectoryWriter(string root, int uid)
    {
        this.root = root;
        this.uid = uid;
    }

    public Stream Create(string relativePath)
    {
        // Note: a dataset name comes from the permit and the upload; a path that leaves the staging directory (.., an
        // absolute path, a NUL) would put plaintext where another project or the host could read it.
        if (string.IsNullOrEmpty(relativePath) || Path.IsPathRooted(relativePath) || relativePath.Contains('\0', StringComparison.Ordinal)
            || relativePath.Contains('\\', StringComparison.Ordinal)
            || relativePath.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new ArgumentException("The plaintext file name must be a relative path without '..'.", nameof(relativePath));
        }

        var full = Path.GetFullPath(Path.Join(root, relativePath));
        if (!full.StartsWith(root + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException("The plaintext file name must stay inside the staging directory.", nameof(relativePath));
        }

        var parent = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(parent))
        {
            // Note: created top-down, each with its mode and owner, since the umask would hide them from the sandbox.
            var missing = new Stack<string>();
            for (var current = parent; current != root && !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
            {
                missing.Push(current);
            }

            foreach (var directory in missing)
            {
                HostFiles.Directory(directory, HostFiles.Mode0750, uid);
            }
        }

        var stream = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        File.SetUnixFileMode(full, HostFiles.Mode0440);
        Native.Chown(full, uid, uid);
        return stream;
    }
}
