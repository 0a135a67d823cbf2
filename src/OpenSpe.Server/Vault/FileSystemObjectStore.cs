using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace OpenSpe.Server.Vault;

/// <summary>
/// The embedded object store: each object is a file under a root directory at the path its
/// (validated) key names. A put streams into a temporary file in the target directory, syncs it,
/// renames it into place and syncs the directory, so a reader sees the whole object or none.
/// Memory use is one buffer per put, whatever the object's size.
/// </summary>
internal sealed class FileSystemObjectStore : IObjectStore, IObjectFileImport
{
    private const int BufferSize = 1024 * 1024;

    /// <summary>Opens (creating, 0700) the store at <paramref name="root"/>.</summary>
    public FileSystemObjectStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        DurableFiles.EnsureDirectory(Root);
    }

    /// <summary>The root directory.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public async Task<StoredObject> PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var target = PathFor(key);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        var directory = Path.GetDirectoryName(target)!;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string? temporary = null;
        try
        {
            var stream = CreateTemporary(directory, out temporary);
            long size = 0;
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    size += read;
                }

                stream.Flush(flushToDisk: true);
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temporary, target, overwrite: true);
            temporary = null;
            DurableFiles.SyncDirectory(directory);
            return new StoredObject(key, size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            if (temporary is not null)
            {
                DurableFiles.TryDelete(temporary);
            }

            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc/>
    public Task ImportFileAsync(string key, string path, CancellationToken cancellationToken = default)
    {
        var target = PathFor(key);
        ArgumentException.ThrowIfNullOrEmpty(path);
        cancellationToken.ThrowIfCancellationRequested();
        var directory = Path.GetDirectoryName(target)!;
        DurableFiles.EnsureDirectory(directory);
        var temporary = DurableFiles.TemporaryPathFor(target);
        // Note: first under a temporary name: a rename on one file system, but a copy (visible while it
        // grows) when the store is on another one; only the second, same-directory rename publishes it.
        File.Move(path, temporary);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0))
            {
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
            DurableFiles.SyncDirectory(directory);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch when (File.Exists(temporary))
        {
            File.Move(temporary, path);
            throw;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            Stream stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
            return Task.FromResult(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException || (ex is UnauthorizedAccessException && Directory.Exists(path)))
        {
            // A key that names a folder of other keys is not an object either.
            throw new ObjectNotFoundException($"No object has key {key}.", ex);
        }
    }

    /// <inheritdoc/>
    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(PathFor(key)));

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        var directory = Path.GetDirectoryName(path)!;
        DurableFiles.SyncDirectory(directory);
        PruneEmptyDirectories(directory);
        return Task.FromResult(true);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (!ObjectKeys.IsValidPrefix(prefix))
        {
            throw new ArgumentException("A listing prefix is empty or the beginning of a valid object key.", nameof(prefix));
        }

        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? string.Empty : prefix[..(slash + 1)];
        var directory = start.Length == 0 ? Root : Path.Combine(Root, start.TrimEnd('/'));
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var entry in Walk(directory, start, cancellationToken))
        {
            if (entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return entry;
            }
        }
    }

    /// <summary>The file path of <paramref name="key"/>; the key is validated, never used raw.</summary>
    private string PathFor(string key)
    {
        ObjectKeys.Validate(key);
        return Path.Combine(Root, key);
    }

    private static FileStream CreateTemporary(string directory, out string temporary)
    {
        // A concurrent delete may prune the directory between creating it and opening the file; retry once.
        for (var attempt = 0; ; attempt++)
        {
            DurableFiles.EnsureDirectory(directory);
            temporary = Path.Combine(directory, DurableFiles.TemporaryPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
            try
            {
                return new FileStream(temporary, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = DurableFiles.OwnerOnlyFile,
                    Options = FileOptions.Asynchronous,
                    BufferSize = 0,
                });
            }
            catch (DirectoryNotFoundException) when (attempt < 2)
            {
            }
        }
    }

    private void PruneEmptyDirectories(string directory)
    {
        while (directory.Length > Root.Length && directory.StartsWith(Root + "/", StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(directory, recursive: false);
            }
            catch (IOException)
            {
                return; // not empty (or already gone)
            }

            directory = Path.GetDirectoryName(directory)!;
            DurableFiles.SyncDirectory(directory);
        }
    }

    /// <summary>Depth-first in ordinal key order: a directory sorts as its name plus '/', as its keys do.</summary>
    private static IEnumerable<ObjectEntry> Walk(string directory, string keyPrefix, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        var children = new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .Where(i => !i.Name.StartsWith('.') && (i.Attributes & FileAttributes.ReparsePoint) == 0)
            .Select(i => (Info: i, SortKey: i is DirectoryInfo ? i.Name + "/" : i.Name))
            .OrderBy(c => c.SortKey, StringComparer.Ordinal)
            .ToList();
        foreach (var (info, _) in children)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = keyPrefix + info.Name;
            if (info is DirectoryInfo)
            {
                foreach (var entry in Walk(info.FullName, key + "/", cancellationToken))
                {
                    yield return entry;
                }
            }
            else if (info is FileInfo file && ObjectKeys.IsValid(key))
            {
                yield return new ObjectEntry(key, file.Length, file.LastWriteTimeUtc);
            }
        }
    }
}
