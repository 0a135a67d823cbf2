using System.Net.WebSockets;
using OpenSpe.Core.Desktop;

namespace OpenSpe.Server.Desktop;

/// <summary>Why a desktop or terminal session ended: the audit reason, the WebSocket close status the browser sees, and whether the desktop stops too.</summary>
/// <param name="Reason">The audit reason class (e.g. <c>idle-timeout</c>, <c>rfb-ClientCutTextTooLong</c>).</param>
/// <param name="Status">The WebSocket close status.</param>
/// <param name="Description">The close description (at most 123 bytes).</param>
/// <param name="StopsDesktop">True when the desktop is stopped as well (idle, maximum length, halt, access ended, protocol breach).</param>
internal sealed record DesktopEnd(string Reason, WebSocketCloseStatus Status, string Description, bool StopsDesktop)
{
    public static readonly DesktopEnd ClientClosed = new("client-closed", WebSocketCloseStatus.NormalClosure, "closed", false);

    public static readonly DesktopEnd ClientGone = new("client-gone", WebSocketCloseStatus.EndpointUnavailable, "connection lost", false);

    public static readonly DesktopEnd Replaced = new("replaced", WebSocketCloseStatus.NormalClosure, "the desktop was opened in another session", false);

    public static readonly DesktopEnd Idle = new("idle-timeout", (WebSocketCloseStatus)DesktopProtocol.CloseIdle, "idle timeout: the desktop was stopped", true);

    public static readonly DesktopEnd MaxLength = new("max-session-length", (WebSocketCloseStatus)DesktopProtocol.CloseMaxLength, "maximum session length reached", true);

    public static readonly DesktopEnd Halted = new("halted", (WebSocketCloseStatus)DesktopProtocol.CloseHalted, "the project is halted", true);

    public static readonly DesktopEnd AccessEnded = new("access-ended", (WebSocketCloseStatus)DesktopProtocol.CloseAccessEnded, "your access to the project ended", true);

    /// <summary>A permit amendment took the session's kind out of <c>policies.workspaceKinds</c>.</summary>
    public static readonly DesktopEnd KindWithdrawn = new("workspace-kind-withdrawn", (WebSocketCloseStatus)DesktopProtocol.CloseAccessEnded,
        "the permit no longer allows this kind of session", true);

    /// <summary>A permit amendment closed a clipboard direction the session was opened with; it reopens under the new rule.</summary>
    public static readonly DesktopEnd ClipboardTightened = new("clipboard-policy-changed", (WebSocketCloseStatus)DesktopProtocol.CloseAccessEnded,
        "the permit's clipboard rule changed: open the session again", true);

    public static readonly DesktopEnd RecordingFailed = new("recording-failed", (WebSocketCloseStatus)DesktopProtocol.CloseRecordingFailed, "the session cannot be recorded", true);

    /// <summary>The session's recording reached its limit; it is stored, and the desktop (not the terminal's shell) keeps running.</summary>
    public static readonly DesktopEnd RecordingFull = new("recording-limit", (WebSocketCloseStatus)DesktopProtocol.CloseMaxLength,
        "the session's recording is full: open the session again", false);

    public static readonly DesktopEnd AuditFailed = new("audit-failed", WebSocketCloseStatus.InternalServerError, "the session cannot be audited", true);

    public static readonly DesktopEnd DesktopEnded = new("desktop-ended", (WebSocketCloseStatus)DesktopProtocol.CloseDesktopEnded, "the desktop ended", false);

    public static readonly DesktopEnd Shutdown = new("shutdown", (WebSocketCloseStatus)DesktopProtocol.CloseShutdown, "the server is stopping", true);

    public static readonly DesktopEnd TextFrame = new("text-frame", WebSocketCloseStatus.InvalidMessageType, "binary frames only", true);

    /// <summary>The terminal's shell ended (exit, logout).</summary>
    public static readonly DesktopEnd ShellEnded = new("shell-ended", WebSocketCloseStatus.NormalClosure, "the shell ended", true);

    /// <summary>A terminal control message (text frame) that is not a valid resize.</summary>
    public static readonly DesktopEnd ControlInvalid = new("control-invalid", WebSocketCloseStatus.PolicyViolation,
        "refused by the gateway: text frames must be {\"type\":\"resize\",\"cols\":C,\"rows\":R}", true);

    /// <summary>A message longer than its bound (terminal input, or a control message).</summary>
    public static readonly DesktopEnd MessageTooBig = new("message-too-big", WebSocketCloseStatus.MessageTooBig, "refused by the gateway: message too long", true);

    /// <summary>The RFB filter closed the session (RFC 6143 breach or a policy the message cannot pass).</summary>
    public static DesktopEnd Filter(RfbCloseReason reason) => new("rfb-" + reason, WebSocketCloseStatus.PolicyViolation, "refused by the gateway: " + reason, true);
}
