using System.Collections.Concurrent;
using OpenSpe.Core.Access;
using OpenSpe.Server.Desktop;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// The terminal sessions open on this instance, each with its shell's sandbox, so the desktop's reaper and termination hook judge
/// and end them as they do desktops (<see cref="IGatedSessions"/>). A terminal lives as long as its session: there is nothing to
/// re-attach to.
/// </summary>
internal sealed class TerminalSessions : IGatedSessions
{
    private readonly ConcurrentDictionary<string, OpenTerminal> _open = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ProjectAction Action => TerminalEndpoints.OpenAction;

    /// <inheritdoc />
    public string Kind => TerminalEndpoints.WorkspaceKind;

    /// <inheritdoc />
    public IReadOnlyList<GatedSession> Open => _open.Values.Select(t => t.Gate).ToList();

    /// <summary>The shells running now (tests use them to see a stop).</summary>
    public IReadOnlyList<IWorkspaceProcess> Shells(string projectId) => _open.Values.Where(t => t.Gate.ProjectId == projectId).Select(t => t.Shell).ToList();

    /// <summary>Registers an open session.</summary>
    public void Add(string sessionId, GatedSession gate, IWorkspaceProcess shell) => _open[sessionId] = new OpenTerminal(gate, shell);

    /// <summary>Forgets a session that ended.</summary>
    public void Remove(string sessionId) => _open.TryRemove(sessionId, out _);

    /// <inheritdoc />
    public async Task EndProjectAsync(string projectId, DesktopEnd end)
    {
        var reason = TerminalSession.StopReasonOf(end);
        foreach (var terminal in _open.Values.Where(t => t.Gate.ProjectId == projectId).ToList())
        {
            terminal.Gate.End(end);
            await terminal.Shell.StopAsync(reason, CancellationToken.None);
        }
    }

    private sealed record OpenTerminal(GatedSession Gate, IWorkspaceProcess Shell);
}
