using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// Web terminal settings (section <c>Terminal</c>). What the permit decides (clipboard, idle timeout) is not here; the terms of
/// use and the ticket lifetime are the desktop's (<c>Desktop:TermsVersion</c>, <c>Desktop:TicketLifetime</c>).
/// </summary>
internal sealed class TerminalOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Terminal";

    /// <summary>The shell's command line in the sandbox: a login shell by default.</summary>
    [Required, MinLength(1)]
    public IList<string> Shell { get; set; } = ["/bin/bash", "-l"];

    /// <summary>The Python that runs the PTY helper inside the sandbox (the workspace image's, Debian <c>python3-minimal</c>).</summary>
    [Required]
    public string Python { get; set; } = "/usr/bin/python3";

    /// <summary>
    /// The most plaintext bytes one terminal session's recording holds (default 1 GiB of text); at the limit the session ends
    /// (<c>recording-limit</c>) with its recording stored.
    /// </summary>
    [Range(64L * 1024, 1L << 40)]
    public long MaxRecordingBytes { get; set; } = 1L << 30;

    /// <summary>The longest a terminal session lasts, input or not; the shell is then stopped.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan MaxSessionLength { get; set; } = TimeSpan.FromHours(8);

    /// <summary>The largest binary message (terminal input, a paste included) the browser may send; a larger one closes the session (1009).</summary>
    [Range(16, 16 * 1024 * 1024)]
    public int MaxInputMessageBytes { get; set; } = 256 * 1024;

    /// <summary>Where xterm.js is (the npm package <c>@xterm/xterm</c>: <c>lib/xterm.mjs</c>, <c>css/xterm.css</c>), served under <c>/terminal/xterm/</c>.</summary>
    [Required]
    public string XtermDirectory { get; set; } = "/usr/local/share/openspe/xterm";
}
