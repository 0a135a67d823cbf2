using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// The members' desktops running in their projects' sandboxes, one per member and project: started on the first session,
/// re-attached by later ones, stopped by the idle timeout, the maximum session length, a halt, the end of the permit or of
/// membership, and at shutdown. Each desktop is an X server with VNC on a UNIX socket in the sandbox's <c>/run/workspace</c>
/// (no TCP port: <c>-rfbport -1 -nolisten tcp</c>), a window manager and the configured programs.
/// </summary>
internal sealed class DesktopHosts(IWorkspaceRuntime runtime, IOptions<DesktopOptions> options, TimeProvider time, ILogger<DesktopHosts> logger) : IAsyncDisposable
{
    /// <summary>The VNC socket's name in <c>/run/workspace</c>.</summary>
    public const string SocketName = "vnc.sock";

    /// <summary>
    /// The start script, run by <c>/bin/sh -c</c> with arguments: X server, display number, geometry, then the window manager and each program as a command line.
    /// Note: <c>-retro</c> draws the classic grey stipple on the root window, so a desktop whose programs are still starting
    /// shows at once that it is alive (a black root cannot be told from no picture at all).
    /// Note: the VNC server's own security is None because only the gateway can reach the socket (mode 0600, in a directory
    /// only the sandbox and the host side see); the gateway has authenticated the person and enforces the permit.
    /// </summary>
    internal const string StartScript = """
        x="$1"; d="$2"; g="$3"; wm="$4"; shift 4
        rm -f /run/workspace/vnc.sock
        "$x" ":$d" -rfbport -1 -rfbunixpath /run/workspace/vnc.sock -rfbunixmode 0600 -SecurityTypes None -nolisten tcp \
          -geometry "$g" -depth 24 -AlwaysShared=0 -DisconnectClients=1 -desktop OpenSPE -retro &
        xpid=$!
        i=0
        while [ ! -S /run/workspace/vnc.sock ] && [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done
        export DISPLAY=":$d"
        /bin/sh -c "$wm" &
        for p in "$@"; do /bin/sh -c "$p" & done
        wait $xpid
        """;

    private readonly ConcurrentDictionary<(string Project, string Account), RunningDesktop> _desktops = new();
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private int _nextDisplay = 20 + Random.Shared.Next(0, 400);

    /// <summary>Whether desktops can run here, and if not, why.</summary>
    public WorkspaceAvailability Availability
    {
        get
        {
            var sandbox = runtime.Availability;
            if (!sandbox.IsAvailable)
            {
                return sandbox;
            }

            var x = options.Value.XServer;
            return File.Exists(x) ? sandbox : new WorkspaceAvailability(false, $"the X server {x} is not installed (Debian package tigervnc-standalone-server)");
        }
    }

    /// <summary>
    /// Connects to the member's desktop, starting it when none runs. <paramref name="member"/> names their home in the sandbox.
    /// </summary>
    /// <exception cref="WorkspaceStartException">The desktop could not be started or reached in time.</exception>
    public async Task<(RunningDesktop Desktop, Stream Vnc, bool Started)> AttachAsync(string projectId, string accountId, string member, CancellationToken cancellationToken)
    {
        await _startLock.WaitAsync(cancellationToken);
        try
        {
            var key = (projectId, accountId);
            if (_desktops.TryGetValue(key, out var running) && !running.Process.Completion.IsCompleted)
            {
                try
                {
                    return (running, await running.Process.ConnectSocketAsync(SocketName, cancellationToken), false);
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                {
                    // Its socket is gone (the X server died while the sandbox lingers): a new desktop replaces it.
                    await StopAsync(running, WorkspaceStopReason.Requested, "unreachable");
                }
            }

            var started = Stopwatch.GetTimestamp();
            var desktop = await StartAsync(projectId, accountId, member, cancellationToken);
            try
            {
                var vnc = await ConnectWhenReadyAsync(desktop, cancellationToken);
                _desktops[key] = desktop;
                DesktopLog.DesktopStarted(logger, member, projectId, desktop.Display, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return (desktop, vnc, true);
            }
            catch
            {
                await desktop.Process.DisposeAsync();
                throw;
            }
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>Stops one desktop (idle timeout, maximum length, access ended); its unsaved state is lost.</summary>
    public async Task StopAsync(RunningDesktop desktop, WorkspaceStopReason reason, string why, DesktopEnd? end = null)
    {
        ArgumentNullException.ThrowIfNull(desktop);
        desktop.EndSession(end ?? DesktopEnd.DesktopEnded);
        if (!desktop.TryBeginStop())
        {
            return;
        }

        _desktops.TryRemove(new KeyValuePair<(string, string), RunningDesktop>((desktop.ProjectId, desktop.AccountId), desktop));
        await desktop.Process.StopAsync(reason, CancellationToken.None);
        await desktop.Process.DisposeAsync();
        DesktopLog.DesktopStopped(logger, desktop.Member, desktop.ProjectId, why);
    }

    /// <summary>Stops every desktop of a project (halt, permit ended).</summary>
    public async Task StopProjectAsync(string projectId, WorkspaceStopReason reason, string why, DesktopEnd end)
    {
        foreach (var desktop in _desktops.Values.Where(d => d.ProjectId == projectId).ToList())
        {
            await StopAsync(desktop, reason, why, end);
        }
    }

    /// <summary>The desktops running now.</summary>
    public IReadOnlyList<RunningDesktop> Running => _desktops.Values.ToList();

    /// <summary>How many desktops run now.</summary>
    public int Count => _desktops.Count;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var desktop in _desktops.Values.ToList())
        {
            await StopAsync(desktop, WorkspaceStopReason.Shutdown, "shutdown", DesktopEnd.Shutdown);
        }

        _startLock.Dispose();
    }

    private async Task<RunningDesktop> StartAsync(string projectId, string accountId, string member, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var display = Interlocked.Increment(ref _nextDisplay) % 900 + 20;
        List<string> command = ["/bin/sh", "-c", StartScript, "desktop", o.XServer, display.ToString(CultureInfo.InvariantCulture), o.Geometry, o.WindowManager, .. o.Programs];
        var spec = new WorkspaceSpec
        {
            ProjectId = projectId,
            Member = member,
            Command = command,
            WorkingDirectory = "/home/" + member,
            Environment = new Dictionary<string, string> { ["HOME"] = "/home/" + member, ["USER"] = member, ["PATH"] = "/usr/bin:/bin" },
            ExposeSockets = true,
            Limits = WorkspaceLimits.Default with { MaxProcesses = 512 },
        };
        try
        {
            var process = await runtime.StartAsync(spec, cancellationToken);
            await process.StandardInput.DisposeAsync();
            // Note: the X server logs every connection to standard error, and the desktop's programs (Jupyter above all)
            // write there too; a pipe nobody reads fills at 64 KiB and then blocks the X server for good, so both are read
            // for as long as the desktop runs.
            _ = DrainAsync(process.StandardOutput);
            _ = DrainAsync(process.StandardError);
            return new RunningDesktop(projectId, accountId, member, display, process);
        }
        catch (WorkspaceStartException ex)
        {
            DesktopLog.DesktopStartFailed(logger, member, projectId, ex.Message);
            throw;
        }
    }

    /// <summary>Reads and discards a desktop's output until it ends (what the programs print is not kept: it may show project data).</summary>
    private static async Task DrainAsync(Stream output)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (await output.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The desktop was stopped.
        }
    }

    /// <summary>Waits for the X server to open its socket (it takes about 0.2 s), or for the desktop to end.</summary>
    private async Task<Stream> ConnectWhenReadyAsync(RunningDesktop desktop, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp();
        while (true)
        {
            try
            {
                return await desktop.Process.ConnectSocketAsync(SocketName, cancellationToken);
            }
            catch (Exception ex) when ((ex is IOException or System.Net.Sockets.SocketException) && !desktop.Process.Completion.IsCompleted && time.GetElapsedTime(deadline) < options.Value.StartTimeout)
            {
                // Note: a short poll because the socket file is the only sign of readiness the X server gives.
                await Task.Delay(TimeSpan.FromMilliseconds(25), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
            {
                var why = desktop.Process.Completion.IsCompleted ? "the desktop ended before it opened its socket" : "the desktop did not open its socket in time";
                DesktopLog.DesktopStartFailed(logger, desktop.Member, desktop.ProjectId, why);
                throw new WorkspaceStartException(why, ex);
            }
        }
    }
}

/// <summary>A member's desktop in a project's sandbox, and the session attached to it, if any.</summary>
internal sealed class RunningDesktop(string projectId, string accountId, string member, int display, IWorkspaceProcess process)
{
    private Action<DesktopEnd>? _detach;
    private int _stopping;

    public string ProjectId { get; } = projectId;

    public string AccountId { get; } = accountId;

    public string Member { get; } = member;

    public int Display { get; } = display;

    public IWorkspaceProcess Process { get; } = process;

    /// <summary>Who it runs for, as the access chain knows them (the reaper asks the chain again for a detached desktop).</summary>
    public AccessPrincipal? Principal { get; set; }

    /// <summary>Who it runs for, as signed in (the reaper asks whether that sign-in is still alive).</summary>
    public System.Security.Claims.ClaimsPrincipal? User { get; set; }

    /// <summary>The permit's idle timeout, applied to the desktop while no session is attached.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The permit's clipboard rule the attached session was opened with (the reaper compares the permit's current one).</summary>
    public OpenSpe.Core.Desktop.RfbPolicy Clipboard { get; set; } = new();

    /// <summary>When the last session detached (server clock), or null while one is attached.</summary>
    public DateTimeOffset? DetachedAt { get; private set; }

    /// <summary>Makes <paramref name="detach"/> the way to end the session attached now, ending the one attached before.</summary>
    public void Attach(Action<DesktopEnd> detach)
    {
        DetachedAt = null;
        Interlocked.Exchange(ref _detach, detach)?.Invoke(DesktopEnd.Replaced);
    }

    /// <summary>Forgets <paramref name="detach"/> if it is still the attached session's.</summary>
    public void Detach(Action<DesktopEnd> detach, DateTimeOffset now)
    {
        if (Interlocked.CompareExchange(ref _detach, null, detach) == detach)
        {
            DetachedAt = now;
        }
    }

    /// <summary>True for the first caller only: that one stops it.</summary>
    public bool TryBeginStop() => Interlocked.Exchange(ref _stopping, 1) == 0;

    /// <summary>Ends the attached session, if any, for <paramref name="end"/>.</summary>
    public void EndSession(DesktopEnd end) => Interlocked.Exchange(ref _detach, null)?.Invoke(end);
}
