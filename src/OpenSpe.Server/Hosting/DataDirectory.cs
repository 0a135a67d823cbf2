using System.Text;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// The server's data directory: created owner-only (0700), and every secret file in it written
/// owner-only (0600) and atomically, so a crash never leaves half a key behind.
/// </summary>
internal sealed class DataDirectory
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private DataDirectory(string path) => Path = path;

    /// <summary>Absolute path.</summary>
    public string Path { get; }

    /// <summary>Opens the directory, creating it with mode 0700 when missing and tightening it when looser.</summary>
    public static DataDirectory Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            Directory.CreateDirectory(full, OwnerOnlyDirectory);
        }
        else
        {
            System.IO.File.SetUnixFileMode(full, OwnerOnlyDirectory);
        }

        return new DataDirectory(full);
    }

    /// <summary>Opens an existing directory for offline tools; never creates one.</summary>
    public static DataDirectory OpenExisting(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"data directory {full} does not exist");
        }

        return new DataDirectory(full);
    }

    /// <summary>Path of a file inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a secret file with mode 0600: to a temporary name, flushed to disk, then renamed into place.</summary>
    public void WriteSecret(string name, string content)
    {
        var target = File(name);
        var temporary = target + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.WriteThrough, UnixCreateMode = OwnerOnlyFile };

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }

        // The temporary file may have existed with a looser mode from an interrupted write.
        System.IO.File.SetUnixFileMode(temporary, OwnerOnlyFile);

        System.IO.File.Move(temporary, target, overwrite: true);
    }

    /// <summary>Writes a non-secret file (e.g. a public key) atomically.</summary>
    public void WritePublic(string name, string content)
    {
        var target = File(name);
        var temporary = target + ".tmp";
        System.IO.File.WriteAllText(temporary, content);
        System.IO.File.Move(temporary, target, overwrite: true);
    }
}
