using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>The runtime when none is registered: desktops answer 503 with the reason instead of failing at start-up.</summary>
internal sealed class NoWorkspaceRuntime : IWorkspaceRuntime
{
    public WorkspaceAvailability Availability { get; } = new(false, "no workspace runtime is configured on this server");

    public Task<IWorkspaceProcess> StartAsync(WorkspaceSpec spec, CancellationToken cancellationToken) =>
        throw new WorkspaceStartException(Availability.Reason);

    public Task StopProjectAsync(string projectId, WorkspaceStopReason reason, CancellationToken cancellationToken) => Task.CompletedTask;
}
