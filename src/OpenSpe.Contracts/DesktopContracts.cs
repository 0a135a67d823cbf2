namespace OpenSpe.Contracts;

/// <summary>The terms of use a researcher accepts before each desktop session (SPER-7).</summary>
/// <param name="Version">The version the acceptance must name.</param>
/// <param name="Text">The text shown.</param>
public sealed record DesktopTermsView(string Version, string Text);

/// <summary>Asks for a desktop ticket, accepting the terms of use shown (SPER-7).</summary>
/// <param name="AcceptTerms">Must be true.</param>
/// <param name="TermsVersion">The version of the terms accepted; must be the current one.</param>
public sealed record DesktopTicketRequest(bool AcceptTerms, string? TermsVersion);

/// <summary>A short-lived, single-use ticket that opens the desktop WebSocket once (<c>?ticket=</c>).</summary>
/// <param name="Ticket">The ticket.</param>
/// <param name="ExpiresAt">When it stops working if unused.</param>
public sealed record DesktopTicketView(string Ticket, DateTimeOffset ExpiresAt);

/// <summary>Names shared by the desktop gateway and its clients.</summary>
public static class DesktopProtocol
{
    /// <summary>The WebSocket subprotocol noVNC and websockify use for binary RFB frames.</summary>
    public const string Subprotocol = "binary";

    /// <summary>The header a non-browser client sends with its bearer upgrade to accept the terms of use (their version).</summary>
    public const string TermsHeader = "Spe-Terms-Accepted";

    /// <summary>Close status: the session was idle for the permit's idle timeout (TIR-24).</summary>
    public const int CloseIdle = 4000;

    /// <summary>Close status: the maximum session length was reached.</summary>
    public const int CloseMaxLength = 4001;

    /// <summary>Close status: the project or the SPE was halted (OPR-20).</summary>
    public const int CloseHalted = 4002;

    /// <summary>Close status: the caller's access ended (permit suspended, revoked or ended, or membership removed).</summary>
    public const int CloseAccessEnded = 4003;

    /// <summary>Close status: the session recording could not be written (fail closed).</summary>
    public const int CloseRecordingFailed = 4004;

    /// <summary>Close status: the desktop inside the sandbox ended or could not be reached.</summary>
    public const int CloseDesktopEnded = 4005;

    /// <summary>Close status: the server is stopping.</summary>
    public const int CloseShutdown = 4006;
}
