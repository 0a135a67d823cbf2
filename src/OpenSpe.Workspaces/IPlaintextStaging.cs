namespace OpenSpe.Workspaces;

/// <summary>
/// Memory-backed storage for a project's decrypted datasets (SDR-4: plaintext never touches a disk). The first lease
/// of a project fills it; it is removed when the last lease is released, or at once by
/// <see cref="IWorkspaceRuntime.StopProjectAsync"/>.
/// </summary>
public interface IPlaintextStaging
{
    /// <summary>
    /// Takes a lease on the project's plaintext. <paramref name="datasets"/> is called under the project's lock and says which
    /// datasets the project may see now (the permit's, read at that moment): staged datasets it no longer names are removed
    /// first (from the sandboxes that hold them too), and <paramref name="populate"/> is called with those it names that are
    /// not staged yet, to write their files as <c>&lt;dataset&gt;/&lt;file&gt;</c> (concurrent callers wait for it). If it
    /// throws, what it wrote is removed and the error propagates.
    /// </summary>
    Task<IPlaintextLease> AcquireAsync(string projectId, Func<CancellationToken, Task<IReadOnlyCollection<string>>> datasets,
        Func<IPlaintextWriter, IReadOnlyCollection<string>, CancellationToken, Task> populate, CancellationToken cancellationToken);

    /// <summary>
    /// Removes now the staged plaintext of every dataset of the project that <paramref name="datasets"/> does not name (a permit
    /// amendment withdrew it): sandboxes holding a lease lose those files at once and keep the others.
    /// </summary>
    Task RetainAsync(string projectId, IReadOnlyCollection<string> datasets, CancellationToken cancellationToken);

    /// <summary>Whether the project has plaintext staged now (for tests and the operator's status).</summary>
    bool IsStaged(string projectId);

    /// <summary>
    /// Removes the project's staged plaintext now, whatever leases are held (they become invalid), so that the next lease
    /// decrypts the datasets as they are stored: after a holder deleted a file, nothing may read it again.
    /// </summary>
    Task RemoveAsync(string projectId, CancellationToken cancellationToken);
}

/// <summary>A hold on a project's staged plaintext; disposing releases it.</summary>
public interface IPlaintextLease : IAsyncDisposable
{
    /// <summary>The project.</summary>
    string ProjectId { get; }

    /// <summary>False once the plaintext was removed under the lease (halt, permit end).</summary>
    bool IsValid { get; }
}

/// <summary>Writes files into a project's staging area while it is being filled.</summary>
public interface IPlaintextWriter
{
    /// <summary>Creates <paramref name="relativePath"/> (a plain name, optionally in subdirectories; no <c>..</c>) for writing.</summary>
    Stream Create(string relativePath);
}
