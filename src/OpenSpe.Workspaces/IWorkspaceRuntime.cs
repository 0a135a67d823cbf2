namespace OpenSpe.Workspaces;

/// <summary>
/// Runs processes in a project's sandbox. The single-node implementation uses bubblewrap; a cluster
/// implementation (Kubernetes) is planned, so nothing here names a host path, uid or namespace flag.
/// </summary>
/// <remarks>
/// Note: the runtime enforces isolation (no network, no host files, per-project identity, limits) but not the
/// permit: callers decide who may start what (the access chain) before they call it, because the runtime has no
/// notion of accounts or roles.
/// </remarks>
public interface IWorkspaceRuntime
{
    /// <summary>Whether this machine can run sandboxes at all, and if not, why (for a clear start-up or 503 answer).</summary>
    WorkspaceAvailability Availability { get; }

    /// <summary>Starts <paramref name="spec"/>'s command in its project's sandbox.</summary>
    /// <exception cref="WorkspaceStartException">The sandbox could not be set up; nothing is left running.</exception>
    Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken);

    /// <summary>
    /// Kills every process of the project now (halt, permit ended, erasure) and removes the project's plaintext,
    /// whatever leases are held. Returns when no process of the project runs any more.
    /// </summary>
    Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken);
}

/// <summary>Whether sandboxes can run here.</summary>
/// <param name="IsAvailable">True when <see cref="IWorkspaceRuntime.StartAsync"/> can succeed.</param>
/// <param name="Reason">Why not, in words an operator can act on; empty when available.</param>
public sealed record WorkspaceAvailability(bool IsAvailable, string Reason);
