using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// A terminated project's desktops and other gated sessions (terminals) stop at once (the reaper would find them within a second;
/// this does not wait for it).
/// </summary>
internal sealed class DesktopTerminationHook(DesktopHosts hosts, IEnumerable<IGatedSessions> sessions) : IProjectTerminationHook
{
    public async Task OnProjectTerminatedAsync(string projectId, CancellationToken cancellationToken)
    {
        await hosts.StopProjectAsync(projectId, WorkspaceStopReason.PermitEnded, "permit-terminated", DesktopEnd.AccessEnded);
        foreach (var source in sessions)
        {
            await source.EndProjectAsync(projectId, DesktopEnd.AccessEnded);
        }
    }
}
