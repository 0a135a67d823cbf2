using System.Runtime.InteropServices;

namespace OpenSpe.Server.Vault;

/// <summary>The few system calls .NET does not offer: opening a directory to fsync it (O_DIRECT opens are in OpenSpe.IO).</summary>
internal static class Libc
{
    /// <summary>O_RDONLY.</summary>
    public const int ReadOnly = 0x0;

    /// <summary>open(2) without O_CREAT; a negative result means failure (errno in the last P/Invoke error).</summary>
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    /// <summary>fsync(2).</summary>
    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int FSync(int fd);

    /// <summary>close(2).</summary>
    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Close(int fd);
}
