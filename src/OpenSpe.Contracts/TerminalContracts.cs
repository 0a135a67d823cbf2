namespace OpenSpe.Contracts;

/// <summary>
/// The web terminal's wire protocol on <c>/api/v1/projects/{id}/terminal</c>: binary frames carry terminal bytes both ways;
/// text frames carry JSON control messages (client: <see cref="ResizeType"/>; server: <see cref="HelloType"/> once, first).
/// Authentication, terms and tickets are the desktop's (<see cref="DesktopProtocol.TermsHeader"/>, <see cref="DesktopTicketView"/>);
/// close statuses are the desktop's (<see cref="DesktopProtocol"/>), plus 1008 for a malformed control message and 1009 for an
/// oversized one.
/// </summary>
public static class TerminalProtocol
{
    /// <summary>The client's control message that sets the window size: <c>{"type":"resize","cols":C,"rows":R}</c>.</summary>
    public const string ResizeType = "resize";

    /// <summary>The server's first message: <c>{"type":"hello","session":"…","clipboardIn":false,"clipboardOut":false}</c>.</summary>
    public const string HelloType = "hello";

    /// <summary>The largest control message (text frame) in bytes.</summary>
    public const int MaxControlMessageBytes = 1024;

    /// <summary>The largest window, in rows and in columns.</summary>
    public const int MaxWindowSide = 1000;
}
