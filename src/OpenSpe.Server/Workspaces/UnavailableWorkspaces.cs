using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// The runtime when none is configured: it starts nothing and says why, so job submissions are answered 503
/// <c>SPE6005</c> instead of failing later.
/// </summary>
internal sealed class UnavailableWorkspaceRuntime : IWorkspaceRuntime
{
    public WorkspaceAvailability Availability { get; } = new(false, "no workspace runtime is configured on this server (the operator sets Workspaces:Runtime=bubblewrap)");

    public Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken) =>
        throw new WorkspaceStartException(Availability.Reason);

    public Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The plaintext staging when no runtime is configured: nothing can be staged.</summary>
internal sealed class UnavailablePlaintextStaging : IPlaintextStaging
{
    public Task<IPlaintextLease> AcquireAsync(string projectId, Func<CancellationToken, Task<IReadOnlyCollection<string>>> datasets,
        Func<IPlaintextWriter, IReadOnlyCollection<string>, CancellationToken, Task> populate, CancellationToken cancellationToken) =>
        throw new WorkspaceStartException("no plaintext staging is configured on this server");

    public Task RetainAsync(string projectId, IReadOnlyCollection<string> datasets, CancellationToken cancellationToken) => Task.CompletedTask;

    public bool IsStaged(string projectId) => false;

    public Task RemoveAsync(string projectId, CancellationToken cancellationToken) => Task.CompletedTask;
}
