namespace OpenSpe.Workspaces;

/// <summary>
/// Memory-backed storage for a project's decrypted datasets (SDR-4: plaintext never touches a disk). The first lease
/// of a project fills it; it is removed when the last lease is released, or at once by
/// <see cref="IWorkspaceRuntime.StopProjectAsync"/>.
/// </summary>
public interface IPlaintextStaging
{
    /// <summary>
    /// Takes a lease on the project's plaintext. When none is staged, <paramref name="populate"/> is called once to
    /// write the files (concurrent callers wait for it); if it throws, nothing stays staged and the error propagates.
    /// </summary>
    Task<IPlaintextLease> AcquireAsync(string projectId, Func<IPlaintextWriter, CancellationToken, Task> populate, CancellationToken cancellationToken);

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
