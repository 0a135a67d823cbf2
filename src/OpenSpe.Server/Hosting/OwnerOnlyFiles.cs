using System.Runtime.InteropServices;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// Keeps everything the server writes owner-only: the process umask is 077 (so files SQLite, Data Protection
/// and the key files create are 0600 and directories 0700), and at start every file already in the data
/// directory is set to 0600 and every directory to 0700.
/// </summary>
internal static partial class OwnerOnlyFiles
{
    private const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Sets the process umask to 077.</summary>
    public static void RestrictProcessUmask()
    {
        // Note: the whole process, because SQLite (spe.db-wal, spe.db-shm) and Data Protection (its key ring) create
        // files with the process umask and offer no mode of their own; a shared host must not read the database or keys.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            _ = Umask(0b000_111_111);
        }
    }

    /// <summary>Sets every file under <paramref name="directory"/> to 0600 and every directory to 0700 (symbolic links are left alone).</summary>
    public static void Tighten(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var entry in new DirectoryInfo(directory.Path).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            var wanted = entry is DirectoryInfo ? Directory : File;
            if (entry.LinkTarget is null && entry.UnixFileMode != wanted)
            {
                entry.UnixFileMode = wanted;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);
}
