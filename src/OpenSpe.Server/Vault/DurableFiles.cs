using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace OpenSpe.Server.Vault;

/// <summary>
/// Crash-safe file operations: a file appears complete or not at all (temporary name, fsync,
/// rename, fsync of the directory), and secrets are overwritten before they are unlinked.
/// </summary>
internal static partial class DurableFiles
{
    /// <summary>Owner read/write (0600).</summary>
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Owner read/write/search (0700).</summary>
    public const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;

    /// <summary>The prefix of temporary files. No object key or project id may start with a dot, so they never collide.</summary>
    public const string TemporaryPrefix = ".tmp-";

    /// <summary>A fresh temporary path in the same directory as <paramref name="target"/> (so the rename stays on one file system).</summary>
    public static string TemporaryPathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, TemporaryPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));

    /// <summary>Creates <paramref name="path"/> owner-only when missing (and its missing parents), syncing each new entry.</summary>
    public static void EnsureDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        var parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            EnsureDirectory(parent);
        }

        try
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
        catch (IOException) when (Directory.Exists(path))
        {
            // Created concurrently.
        }

        if (parent is not null)
        {
            SyncDirectory(parent);
        }
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="target"/> atomically with mode <paramref name="mode"/>.</summary>
    public static void WriteAllBytesAtomic(string target, ReadOnlySpan<byte> content, UnixFileMode mode = OwnerOnlyFile)
    {
        var temporary = TemporaryPathFor(target);
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode, BufferSize = 0 }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        SyncDirectory(Path.GetDirectoryName(target)!);
    }

    /// <summary>
    /// Overwrites a file in place with random bytes, flushes, then unlinks it and syncs its directory.
    /// Note: on copy-on-write or flash storage the old blocks may survive an overwrite; the
    /// guarantee that matters comes from the wrapping key, which is why destruction also
    /// recommends a master-key rotation (see <see cref="IProjectKeyStore.DestroyProjectKeyAsync"/>).
    /// </summary>
    public static void Shred(string path)
    {
        using (var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Write, BufferSize = 0 }))
        {
            var remaining = stream.Length;
            Span<byte> noise = stackalloc byte[4096];
            while (remaining > 0)
            {
                var chunk = noise[..(int)Math.Min(noise.Length, remaining)];
                RandomNumberGenerator.Fill(chunk);
                stream.Write(chunk);
                remaining -= chunk.Length;
            }

            stream.Flush(flushToDisk: true);
        }

        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Deletes a file if it exists, ignoring failures (used on error paths only).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>fsync(2) on a directory, so a rename or unlink in it survives a power loss.</summary>
    public static void SyncDirectory(string directory)
    {
        // .NET refuses to open a directory as a file, hence the direct system calls.
        var fd = Libc.Open(directory, Libc.ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Libc.FSync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }
}
