using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Desktop;

/// <summary>Desktop gateway settings (section <c>Desktop</c>). What the permit decides (clipboard, idle timeout) is not here.</summary>
internal sealed class DesktopOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Desktop";

    /// <summary>How long a ticket works if unused (at most 60 s: it rides in a URL).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest a desktop session lasts, input or not; the desktop is then stopped.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan MaxSessionLength { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// The most plaintext bytes one desktop session's recording holds (default 16 GiB, hours of a busy screen); at the limit the
    /// session ends (<c>recording-limit</c>) with its recording stored, and the desktop keeps running for the next session.
    /// </summary>
    [Range(64L * 1024, 1L << 40)]
    public long MaxRecordingBytes { get; set; } = 16L << 30;

    /// <summary>How often an open session asks the access chain again (permit ended, member removed): within one second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:01")]
    public TimeSpan AccessRecheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a desktop may take to open its VNC socket.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The version of the terms of use; an acceptance must name it.</summary>
    [Required, StringLength(64, MinimumLength = 1)]
    public string TermsVersion { get; set; } = "2026-12-01";

    /// <summary>The terms of use shown once per session (SPER-7).</summary>
    [Required, StringLength(8000, MinimumLength = 1)]
    public string TermsText { get; set; } =
        "You are about to view sensitive health data under a data permit. Use it only for the permit's purpose. Do not photograph, "
        + "copy, transcribe or share what you see; keep your screen out of sight of others; lock or close the session when you leave. "
        + "Results leave the SPE only through the airlock. Every session is recorded and audited.";

    /// <summary>The X server with VNC inside the sandbox (called directly: <c>Xvnc</c> is a symlink through /etc/alternatives, which the sandbox lacks).</summary>
    [Required]
    public string XServer { get; set; } = "/usr/bin/Xtigervnc";

    /// <summary>
    /// The window manager's command line (run by <c>/bin/sh -c</c> in the sandbox). The default is twm with a tools menu on
    /// a click on the background: a terminal, R, a text editor, and Jupyter Notebook opened in Chromium. Jupyter listens on
    /// the sandbox's own loopback, which nothing outside the sandbox can reach (no network namespace is shared).
    /// Note: twm places new windows by hand and grabs the whole X server meanwhile by default, which freezes every other
    /// program (the clipboard included) until someone clicks; the default configuration places them at random and never
    /// grabs the server. The fonts are named because twm's default ("variable") is not an X core font this X server
    /// has, and without it twm exits at once, leaving a desktop with no window manager. Chromium runs with <c>--no-sandbox</c> because it cannot create its own namespaces inside
    /// bubblewrap's; the project sandbox is the boundary.
    /// </summary>
    [Required]
    public string WindowManager { get; set; } = """
        cat > /tmp/openspe-twmrc <<'EOF'
        RandomPlacement
        NoGrabServer
        TitleFont "fixed"
        MenuFont "fixed"
        IconFont "fixed"
        ResizeFont "fixed"
        IconManagerFont "fixed"
        Menu "tools"
        {
            "OpenSPE"           f.title
            "Terminal"          f.exec "xterm &"
            "Jupyter Notebook"  f.exec "cd /project && BROWSER='/usr/lib/chromium/chromium --no-sandbox --disable-gpu --no-first-run %s' jupyter-notebook --ip=127.0.0.1 --notebook-dir=/project &"
            "R"                 f.exec "xterm -e R &"
            "Text editor"       f.exec "xterm -e nano &"
        }
        Button1 = : root : f.menu "tools"
        Button3 = : root : f.menu "tools"
        EOF
        exec /usr/bin/twm -f /tmp/openspe-twmrc
        """;

    /// <summary>Command lines (run by <c>/bin/sh -c</c> in the sandbox) started on the desktop after the window manager: a terminal by default.</summary>
    public IList<string> Programs { get; set; } = ["/usr/bin/xterm"];

    /// <summary>Desktop size, WIDTHxHEIGHT.</summary>
    [RegularExpression(@"^\d{3,4}x\d{3,4}$")]
    public string Geometry { get; set; } = "1280x800";

    /// <summary>Where noVNC's files are (Debian package <c>novnc</c>), served by the SPE itself under <c>/desktop/novnc/</c>.</summary>
    [Required]
    public string NoVncDirectory { get; set; } = "/usr/share/novnc";
}
