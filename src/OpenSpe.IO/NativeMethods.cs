using System.Runtime.InteropServices;

namespace OpenSpe.IO;

/// <summary>open(2), which .NET does not offer with O_DIRECT.</summary>
internal static class NativeMethods
{
    /// <summary>O_RDONLY.</summary>
    public const int ReadOnly = 0x0;

    /// <summary>O_WRONLY.</summary>
    public const int WriteOnly = 0x1;

    /// <summary>O_CLOEXEC.</summary>
    public const int CloseOnExec = 0x80000;

    /// <summary>open(2) without O_CREAT; a negative result means failure (errno in the last P/Invoke error).</summary>
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
}
