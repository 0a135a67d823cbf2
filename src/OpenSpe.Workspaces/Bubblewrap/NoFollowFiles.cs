using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// Path walking that never follows a symbolic link: every step is opened with <c>openat(..., O_NOFOLLOW)</c> relative to the
/// directory before it, and what is opened is judged by <c>statx</c> on the open descriptor, not by its name.
/// </summary>
/// <remarks>
/// Note: the directories below a project's root are written by the project's sandbox, which may swap any name for a symlink
/// (to the server's data directory, <c>/etc/shadow</c>, another project) between our checks; resolving one component at a
/// time from an already-open directory, never by a full path, leaves no window in which a swapped name is followed.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static partial class NoFollowFiles
{
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ENoEnt = 2;
    private const int EExist = 17;
    private const int ENotDir = 20;
    private const int ELoop = 40;

    // Note: O_DIRECTORY and O_NOFOLLOW differ between architectures (asm-generic on arm64, the x86 values on x64).
    private static readonly int ODirectory = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    private static readonly int ONoFollow = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(int directory, string name, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdirAt(int directory, string name, uint mode);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string name, int flags, uint mask, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAt(int directory, string name, int flags);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int Fchmod(int fd, uint mode);

    /// <summary>The type, links, owner, size and identity of an open file (from <c>struct statx</c>, whose layout is the same on every architecture).</summary>
    public readonly record struct FileFacts(UnixFileMode Mode, bool IsRegular, bool IsDirectory, bool IsSymbolicLink, uint Links, uint Owner, long Size, ulong Inode, ulong Device,
        DateTimeOffset Modified);

    /// <summary>Opens the directory <paramref name="path"/> (trusted: the operator's configuration), following nothing below it.</summary>
    public static SafeFileHandle OpenTrustedDirectory(string path)
    {
        var fd = OpenAt(-100, path, ORdOnly | ODirectory | OCloExec, 0); // AT_FDCWD with an absolute path
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw Refusal(Marshal.GetLastPInvokeError(), "the workspace root");
    }

    /// <summary>Opens the directory <paramref name="name"/> (one component) in <paramref name="parent"/>; a symlink or a non-directory is refused.</summary>
    public static SafeFileHandle OpenDirectory(SafeFileHandle parent, string name)
    {
        var fd = OpenAt(Fd(parent), name, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == ENotDir ? Classify(parent, name, errno) : Refusal(errno, name);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Opens the regular file <paramref name="name"/> in <paramref name="parent"/> for reading. Its type is checked before it is
    /// opened (a FIFO or device is never opened) and again on the open descriptor, which must be the entry checked.
    /// </summary>
    public static (SafeFileHandle Handle, FileFacts Facts) OpenRegularFile(SafeFileHandle parent, string name)
    {
        var before = StatAt(parent, name);
        if (before.IsSymbolicLink)
        {
            throw new ProjectFileException(ProjectFileError.SymbolicLink, $"'{name}' is a symbolic link, which is never followed.");
        }

        if (!before.IsRegular)
        {
            throw new ProjectFileException(ProjectFileError.NotRegularFile, $"'{name}' is not a regular file.");
        }

        var fd = OpenAt(Fd(parent), name, ORdOnly | ONoFollow | ONonBlock | OCloExec, 0);
        if (fd < 0)
        {
            throw Refusal(Marshal.GetLastPInvokeError(), name);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var facts = Stat(handle);
        if (!facts.IsRegular || facts.Inode != before.Inode || facts.Device != before.Device)
        {
            handle.Dispose();
            throw new ProjectFileException(ProjectFileError.NotRegularFile, $"'{name}' changed while it was opened.");
        }

        return (handle, facts);
    }

    /// <summary>Creates the directory <paramref name="name"/> in <paramref name="parent"/> if it is missing, then opens it (never through a symlink).</summary>
    public static SafeFileHandle EnsureDirectory(SafeFileHandle parent, string name, UnixFileMode mode, bool mustBeNew)
    {
        if (MkdirAt(Fd(parent), name, (uint)mode) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EExist)
            {
                throw Refusal(errno, name);
            }

            if (mustBeNew)
            {
                throw new ProjectFileException(ProjectFileError.Exists, $"'{name}' exists already.");
            }
        }

        var directory = OpenDirectory(parent, name);
        // Note: set after creation because the server's umask (077) masks the mode given to mkdirat.
        _ = Fchmod(Fd(directory), (uint)mode);
        return directory;
    }

    /// <summary>Creates the new file <paramref name="name"/> in <paramref name="parent"/> for writing; an existing entry of any kind is refused.</summary>
    public static SafeFileHandle CreateFile(SafeFileHandle parent, string name)
    {
        var fd = OpenAt(Fd(parent), name, OWrOnly | OCreat | OExcl | ONoFollow | OCloExec, 0x180); // 0600 until written
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw Refusal(Marshal.GetLastPInvokeError(), name);
    }

    /// <summary>Sets the mode of an open file.</summary>
    public static void SetMode(SafeFileHandle handle, UnixFileMode mode)
    {
        if (Fchmod(Fd(handle), (uint)mode) != 0)
        {
            throw new IOException($"fchmod failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>What the entry <paramref name="name"/> in <paramref name="parent"/> is (a symlink itself, never its target), or null when there is none.</summary>
    public static FileFacts? TryStatAt(SafeFileHandle parent, string name)
    {
        try
        {
            return StatAt(parent, name);
        }
        catch (ProjectFileException e) when (e.Error == ProjectFileError.NotFound)
        {
            return null;
        }
    }

    /// <summary>Removes the file <paramref name="name"/> (one component, never a directory) from <paramref name="parent"/>.</summary>
    public static void RemoveFile(SafeFileHandle parent, string name)
    {
        if (UnlinkAt(Fd(parent), name, 0) != 0)
        {
            throw Refusal(Marshal.GetLastPInvokeError(), name);
        }
    }

    /// <summary>
    /// The names in the open directory <paramref name="directory"/> (never <c>.</c> or <c>..</c>), at most <paramref name="max"/>
    /// of them; what each is must then be asked with <see cref="TryStatAt"/>, which follows nothing.
    /// </summary>
    /// <remarks>
    /// Note: read through the descriptor's <c>/proc/self/fd</c> entry, which names the directory already opened without following
    /// links, so a name swapped for a symlink after the open is never listed through.
    /// </remarks>
    public static List<string> ListNames(SafeFileHandle directory, int max) =>
        [.. Directory.EnumerateFileSystemEntries("/proc/self/fd/" + Fd(directory).ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Select(Path.GetFileName).OfType<string>().Take(max)];

    /// <summary>What an open descriptor is.</summary>
    public static FileFacts Stat(SafeFileHandle handle) => StatCore(Fd(handle), "", AtEmptyPath, "(open file)");

    private static FileFacts StatAt(SafeFileHandle parent, string name) => StatCore(Fd(parent), name, AtSymlinkNoFollow, name);

    private static FileFacts StatCore(int directory, string name, int flags, string shown)
    {
        var buffer = new byte[256];
        if (Statx(directory, name, flags, StatxBasicStats, buffer) != 0)
        {
            throw Refusal(Marshal.GetLastPInvokeError(), shown);
        }

        // struct statx: stx_nlink u32 @16, stx_uid u32 @20, stx_mode u16 @28, stx_ino u64 @32, stx_size u64 @40,
        // stx_mtime (tv_sec i64 @112, tv_nsec u32 @120), stx_dev_major u32 @136, stx_dev_minor u32 @140.
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28));
        var type = mode & 0xF000;
        return new FileFacts(
            (UnixFileMode)(mode & 0xFFF),
            type == 0x8000,
            type == 0x4000,
            type == 0xA000,
            BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(16)),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20)),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(40)),
            BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(32)),
            ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(136)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(140)),
            DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(112)))
                .AddTicks(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(120)) / 100));
    }

    private static ProjectFileException Classify(SafeFileHandle parent, string name, int errno)
    {
        try
        {
            var facts = StatAt(parent, name);
            return facts.IsSymbolicLink
                ? new ProjectFileException(ProjectFileError.SymbolicLink, $"'{name}' is a symbolic link, which is never followed.")
                : facts.IsDirectory ? Refusal(errno, name) : new ProjectFileException(ProjectFileError.NotRegularFile, $"'{name}' is not a directory.");
        }
        catch (ProjectFileException e)
        {
            return e;
        }
    }

    private static ProjectFileException Refusal(int errno, string name) => errno switch
    {
        ENoEnt => new ProjectFileException(ProjectFileError.NotFound, $"'{name}' does not exist."),
        ELoop => new ProjectFileException(ProjectFileError.SymbolicLink, $"'{name}' is a symbolic link, which is never followed."),
        ENotDir => new ProjectFileException(ProjectFileError.SymbolicLink, $"'{name}' is not a plain directory."),
        EExist => new ProjectFileException(ProjectFileError.Exists, $"'{name}' exists already."),
        _ => new ProjectFileException(ProjectFileError.NotRegularFile, $"'{name}' cannot be opened (errno {errno})."),
    };

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();
}
