using System.Runtime.Versioning;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// Stages a project's decrypted datasets in a directory on tmpfs that only the project's uid can read, filled by the
/// first lease and removed with the last (or at once by <see cref="RemoveAsync"/>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class TmpfsPlaintextStaging : IPlaintextStaging
{
    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly WorkspaceOptions options;
    private readonly ProjectIdentities identities;
    private readonly ILogger logger;

    public TmpfsPlaintextStaging(WorkspaceOptions options, ProjectIdentities identities, ILogger<TmpfsPlaintextStaging> logger)
    {
        this.options = options;
        this.identities = identities;
        this.logger = logger;
    }

    public async Task<IPlaintextLease> AcquireAsync(string projectId, Func<IPlaintextWriter, CancellationToken, Task> populate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(populate);
        WorkspaceNames.CheckProject(projectId);
        var entry = entries.GetOrAdd(projectId, _ => new Entry());
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var directory = DirectoryOf(projectId);
            if (!entry.Staged)
            {
                var uid = identities.UidOf(projectId);
                EnsureRoot();
                if (Directory.Exists(directory))
                {
                    // Left over from a crash: never reuse plaintext nobody vouches for.
                    Directory.Delete(directory, recursive: true);
                }

                // Note: 0750 owned by the project uid and its own gid: only that project's sandboxes can read it.
                HostFiles.Directory(directory, HostFiles.Mode0750, uid);
                try
                {
                    await populate(new Writer(directory, uid), cancellationToken);
                }
                catch
                {
                    Directory.Delete(directory, recursive: true);
                    throw;
                }

                entry.Staged = true;
                Log.PlaintextStaged(logger, projectId);
            }

            entry.Leases++;
            return new Lease(this, projectId, entry, entry.Generation, directory);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    public bool IsStaged(string projectId) => entries.TryGetValue(projectId, out var entry) && entry.Staged;

    /// <summary>Removes the project's plaintext now, whatever leases are held; they become invalid.</summary>
    public async Task RemoveAsync(string projectId, CancellationToken cancellationToken)
    {
        if (!entries.TryGetValue(projectId, out var entry))
        {
            return;
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            RemoveLocked(projectId, entry);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The host directory of the project's plaintext.</summary>
    internal string DirectoryOf(string projectId) => Path.Join(options.PlaintextRoot, projectId);

    private void EnsureRoot()
    {
        HostFiles.Directory(options.PlaintextRoot, HostFiles.Mode0711);
        // Note: checked at every first fill, not only at start, because a mount can change under a running server.
        if (!Native.IsMemoryBacked(options.PlaintextRoot))
        {
            throw new WorkspaceStartException($"{options.PlaintextRoot} is not on tmpfs or ramfs; plaintext is not staged on a disk.");
        }
    }

    private async ValueTask ReleaseAsync(Lease lease)
    {
        var entry = lease.Entry;
        await entry.Gate.WaitAsync();
        try
        {
            if (entry.Generation == lease.Generation && entry.Staged && --entry.Leases == 0)
            {
                RemoveLocked(lease.ProjectId, entry);
            }
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private void RemoveLocked(string projectId, Entry entry)
    {
        var directory = DirectoryOf(projectId);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        var wasStaged = entry.Staged;
        entry.Staged = false;
        entry.Leases = 0;
        entry.Generation++;
        if (wasStaged)
        {
            Log.PlaintextRemoved(logger, projectId);
        }
    }

    internal sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool Staged { get; set; }

        public int Leases { get; set; }

        public int Generation { get; set; }
    }

    /// <summary>A lease; knows its host directory so the runtime can mount it.</summary>
    internal sealed class Lease : IPlaintextLease
    {
        private readonly TmpfsPlaintextStaging owner;
        private int released;

        public Lease(TmpfsPlaintextStaging owner, string projectId, Entry entry, int generation, string directory)
        {
            this.owner = owner;
            ProjectId = projectId;
            Entry = entry;
            Generation = generation;
            Directory = directory;
        }

        public string ProjectId { get; }

        public bool IsValid => Volatile.Read(ref released) == 0 && Entry.Staged && Entry.Generation == Generation;

        internal Entry Entry { get; }

        internal int Generation { get; }

        internal string Directory { get; }

        internal bool IsFrom(TmpfsPlaintextStaging staging) => ReferenceEquals(owner, staging);

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref released, 1) == 0 ? owner.ReleaseAsync(this) : ValueTask.CompletedTask;
    }

    private sealed class Writer : IPlaintextWriter
    {
        private readonly string root;
        private readonly int uid;

        public Writer(string root, int uid)
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
}
