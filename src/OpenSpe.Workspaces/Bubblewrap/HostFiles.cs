using System.Runtime.Versioning;
namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// Creates host files and directories with an explicit mode and owner.
/// </summary>
/// <remarks>
/// Note: every mode is set AFTER creation because the server runs with umask 077, which masks the mode given at
/// creation; a directory created 0755 under that umask ends up 0700 and the sandbox uid cannot enter it.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class HostFiles
{
    public const UnixFileMode Mode0711 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode Mode0750 = Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    public const UnixFileMode Mode0755 = Mode0750 | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    public const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode Mode0444 = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public const UnixFileMode Mode0440 = UnixFileMode.UserRead | UnixFileMode.GroupRead;

    /// <summary>Creates <paramref name="path"/> and sets its mode and owner; missing parents get 0711 (root may pass, nobody may list).</summary>
    public static void Directory(string path, UnixFileMode mode, int? owner = null)
    {
        var created = new List<string>();
        for (var current = path; !System.IO.Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            created.Add(current);
        }

        System.IO.Directory.CreateDirectory(path, mode);
        foreach (var directory in created)
        {
            File.SetUnixFileMode(directory, Mode0711);
        }

        File.SetUnixFileMode(path, mode);
        if (owner is { } uid)
        {
            Native.Chown(path, uid, uid);
        }
    }

    /// <summary>Writes <paramref name="content"/> to a new file and sets its mode and owner.</summary>
    public static void Text(string path, string content, UnixFileMode mode, int? owner = null)
    {
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        if (owner is { } uid)
        {
            Native.Chown(path, uid, uid);
        }
    }
}
