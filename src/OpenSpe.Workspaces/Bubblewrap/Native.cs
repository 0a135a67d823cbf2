using System.Runtime.Versioning;
using System.Runtime.InteropServices;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>The few libc calls .NET has no managed API for.</summary>
[SupportedOSPlatform("linux")]
internal static partial class Native
{
    private const int TmpfsMagic = 0x01021994;
    private const uint RamfsMagic = 0x858458f6;

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChownNative(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatfsNative(string path, [Out] long[] buffer);

    /// <summary>Sets the owner of <paramref name="path"/> (not following a final symlink is not needed: we create the paths).</summary>
    public static void Chown(string path, int uid, int gid)
    {
        if (ChownNative(path, uid, gid) != 0)
        {
            throw new IOException($"chown {path} to {uid}:{gid} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Sends SIGKILL; a process that is already gone is not an error.</summary>
    public static void KillHard(int pid) => _ = KillNative(pid, 9);

    /// <summary>Whether <paramref name="path"/> lies on a memory-backed filesystem (tmpfs or ramfs), by statfs.</summary>
    public static bool IsMemoryBacked(string path)
    {
        // Note: struct statfs starts with a long f_type on 64-bit Linux; 16 longs cover the whole struct with room.
        var buffer = new long[16];
        if (StatfsNative(path, buffer) != 0)
        {
            return false;
        }

        var type = (uint)buffer[0];
        return type == TmpfsMagic || type == RamfsMagic;
    }
}
