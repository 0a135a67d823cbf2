using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Desktop;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Desktop;

/// <summary>
/// The default window manager configuration really runs on the desktop's X server, in a real sandbox: twm stays up and
/// creates its tools menu. Until its fonts were named, twm exited at once (its default font is not one this X server has)
/// and every desktop had no window manager, which no gateway test could notice.
/// </summary>
public sealed class DesktopWindowManagerTests(DesktopFixture f) : IClassFixture<DesktopFixture>
{
    /// <summary>
    /// Starts the X server, then the configured window manager, and waits (bounded) until the root window has the five
    /// children twm makes with this configuration (its icon manager and info windows, the tools menu and its shadow); it
    /// answers WM-UP when twm is then still running, WM-DIED when it exited first.
    /// </summary>
    private const string Script = """
        x="$1"; wm="$2"
        "$x" :9 -rfbport -1 -rfbunixpath /tmp/vnc.sock -SecurityTypes None -nolisten tcp -geometry 800x600 -depth 24 >/tmp/x.log 2>&1 &
        i=0; while [ ! -S /tmp/vnc.sock ] && [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done
        export DISPLAY=:9
        /bin/sh -c "$wm" >/tmp/wm.log 2>&1 &
        wm_pid=$!
        i=0
        while kill -0 $wm_pid 2>/dev/null && [ $i -lt 400 ]; do
          n=$(xwininfo -root -children 2>/dev/null | sed -n 's/^ *\([0-9]*\) child.*/\1/p')
          [ "${n:-0}" -ge 5 ] && break
          i=$((i+1)); sleep 0.05
        done
        if kill -0 $wm_pid 2>/dev/null; then echo WM-UP "${n:-0}"; else echo WM-DIED; head -c 300 /tmp/wm.log; fi
        """;

    [Fact]
    [Trait("Requirement", "TIR-18")]
    public async Task The_default_window_manager_runs_with_its_tools_menu()
    {
        f.RequireDesktop();
        if (!File.Exists("/usr/bin/xwininfo"))
        {
            Infrastructure.Requirements.Missing("xwininfo (apt-get install x11-utils) lists the desktop's windows");
        }

        var options = new DesktopOptions();
        var runtime = f.Server.Services.GetRequiredService<IWorkspaceRuntime>();
        var spec = new WorkspaceSpec { ProjectId = "desktop-wm", Member = "alice", Command = ["/bin/sh", "-c", Script, "wm-probe", options.XServer, options.WindowManager] };

        await using var process = await runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        await process.StandardInput.DisposeAsync();
        using var output = new StreamReader(process.StandardOutput, Encoding.UTF8);
        var answer = await output.ReadLineAsync(TestContext.Current.CancellationToken);

        Assert.Equal("WM-UP 5", answer);
    }
}
