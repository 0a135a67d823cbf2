using System.Collections.Concurrent;
using System.Runtime.Versioning;
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

    public async Task<IPlaintextLease> AcquireAsync(string projectId, Func<CancellationToken, Task<IReadOnlyCollection<string>>> datasets,
        Func<IPlaintextWriter, IReadOnlyCollection<string>, CancellationToken, Task> populate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        ArgumentNullException.ThrowIfNull(populate);
        WorkspaceNames.CheckProject(projectId);
        var entry = entries.GetOrAdd(projectId, _ => new Entry());
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            // Note: the list is read under the project's lock, and a permit change removes withdrawn datasets under the same
            // lock (RetainAsync) after it is stored, because a list read before the change and used after it would stage a
            // withdrawn dataset again.
            var current = (await datasets(cancellationToken)).ToHashSet(StringComparer.Ordinal);
            foreach (var dataset in current)
            {
                WorkspaceNames.CheckDataset(dataset);
            }

            var directory = DirectoryOf(projectId);
            var uid = identities.UidOf(projectId);
            if (!entry.Staged)
            {
                EnsureRoot();
                if (Directory.Exists(directory))
                {
                    // Left over from a crash: never reuse plaintext nobody vouches for.
                    Directory.Delete(directory, recursive: true);
                }

                // Note: 0750 owned by the project uid and its own gid: only that project's sandboxes can read it.
                HostFiles.Directory(directory, HostFiles.Mode0750, uid);
                entry.Datasets.Clear();
                try
                {
                    await populate(new PlaintextDirectoryWriter(directory, uid), current, cancellationToken);
                }
                catch
                {
                    Directory.Delete(directory, recursive: true);
                    throw;
                }

                entry.Datasets.UnionWith(current);
                entry.Staged = true;
                Log.PlaintextStaged(logger, projectId);
            }
            else
            {
                // Note: the staging is shared by every lease of the project and mounted whole at /data, so it must never hold
                // a dataset the project may no longer see: one withdrawn since it was filled goes now, from the running
                // sandboxes too, before this lease is given.
                WithdrawLocked(projectId, entry, current);
                var missing = current.Where(d => !entry.Datasets.Contains(d)).ToList();
                if (missing.Count > 0)
                {
                    EnsureRoot();
                    try
                    {
                        await populate(new PlaintextDirectoryWriter(directory, uid), missing, cancellationToken);
                    }
                    catch
                    {
                        RemoveDatasets(directory, missing);
                        throw;
                    }

                    entry.Datasets.UnionWith(missing);
                }
            }

            entry.Leases++;
            return new Lease(this, projectId, entry, entry.Generation, directory);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task RetainAsync(string projectId, IReadOnlyCollection<string> datasets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        if (!entries.TryGetValue(projectId, out var entry))
        {
            return;
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            if (entry.Staged)
            {
                WithdrawLocked(projectId, entry, datasets.ToHashSet(StringComparer.Ordinal));
            }
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

    private void WithdrawLocked(string projectId, Entry entry, HashSet<string> current)
    {
        var withdrawn = entry.Datasets.Where(d => !current.Contains(d)).ToList();
        if (withdrawn.Count == 0)
        {
            return;
        }

        RemoveDatasets(DirectoryOf(projectId), withdrawn);
        entry.Datasets.ExceptWith(withdrawn);
        Log.PlaintextDatasetsWithdrawn(logger, projectId, withdrawn.Count);
    }

    private static void RemoveDatasets(string directory, IEnumerable<string> datasets)
    {
        foreach (var dataset in datasets)
        {
            var path = Path.Join(directory, dataset);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
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
        entry.Datasets.Clear();
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

        /// <summary>The datasets staged now (guarded by <see cref="Gate"/>).</summary>
        public HashSet<string> Datasets { get; } = new(StringComparer.Ordinal);

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
}
