using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>A terminated project's desktops stop at once (the reaper would find them within a second; this does not wait for it).</summary>
internal sealed class DesktopTerminationHook(DesktopHosts hosts) : IProjectTerminationHook
{
    public Task OnProjectTerminatedAsync(string projectId, CancellationToken cancellationToken) =>
        hosts.StopProjectAsync(projectId, WorkspaceStopReason.PermitEnded, "permit-terminated", DesktopEnd.AccessEnded);
}
