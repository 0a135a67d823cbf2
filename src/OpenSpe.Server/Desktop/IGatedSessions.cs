using System.Security.Claims;
using OpenSpe.Core.Access;
using OpenSpe.Core.Desktop;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// Open sessions of another kind (the terminal's) that the <see cref="DesktopReaper"/> judges again with the access chain and the
/// sign-in, and the <see cref="DesktopTerminationHook"/> closes when their project's permit is terminated, as it does desktops.
/// </summary>
internal interface IGatedSessions
{
    /// <summary>The chain's action the sessions were opened with.</summary>
    ProjectAction Action { get; }

    /// <summary>The workspace kind the permit's <c>policies.workspaceKinds</c> must keep naming (<c>terminal</c>).</summary>
    string Kind { get; }

    /// <summary>The sessions open now.</summary>
    IReadOnlyList<GatedSession> Open { get; }

    /// <summary>Ends every open session of <paramref name="projectId"/> for <paramref name="end"/> and waits until their processes are gone.</summary>
    Task EndProjectAsync(string projectId, DesktopEnd end);
}

/// <summary>One open session, as the reaper sees it.</summary>
/// <param name="ProjectId">Its project.</param>
/// <param name="Member">Its member's name in the sandbox (for the log).</param>
/// <param name="Principal">Who it runs for, as the access chain knows them.</param>
/// <param name="User">Who it runs for, as signed in.</param>
/// <param name="End">Ends it (the first reason wins); its process is stopped by its gateway.</param>
/// <param name="Clipboard">The permit's clipboard rule it was opened with.</param>
internal sealed record GatedSession(string ProjectId, string Member, AccessPrincipal Principal, ClaimsPrincipal User, Action<DesktopEnd> End, RfbPolicy Clipboard);
