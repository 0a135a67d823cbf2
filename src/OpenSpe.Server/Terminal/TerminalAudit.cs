using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Desktop;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// The terminal's audit records (TIR-26), through the desktop's writer: terms accepted, tickets issued, sessions opened and
/// closed (who, from where, how long, bytes each way, pastes, why it ended, the shell's exit code) and every dropped paste
/// (<c>terminal.clipboard.in.dropped</c>, its size only). Each names the project.
/// </summary>
internal sealed class TerminalAudit(DesktopAudit audit)
{
    /// <summary>The terms of use were accepted for a terminal session (SPER-7).</summary>
    public Task TermsAcceptedAsync(HttpContext context, string projectId, string version) =>
        audit.AppendAsync(context, context.User, "terminal.terms.accepted", projectId, AuditOutcome.Success, new Dictionary<string, string> { ["termsVersion"] = version });

    /// <summary>A ticket was issued.</summary>
    public Task TicketIssuedAsync(HttpContext context, string projectId, DateTimeOffset expiresAt) =>
        audit.AppendAsync(context, context.User, "terminal.ticket.issued", projectId, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["expiresAt"] = expiresAt.ToString("O", CultureInfo.InvariantCulture),
        });

    /// <summary>A session opened; durable before the WebSocket is accepted.</summary>
    public Task SessionOpenedAsync(HttpContext context, string projectId, string sessionId, string recording) =>
        audit.AppendAsync(context, context.User, "terminal.session.opened", projectId, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["session"] = sessionId,
            ["recording"] = recording,
        });

    /// <summary>A paste the permit's clipboard rule dropped: its size, never its contents (TIR-25).</summary>
    public Task PasteDroppedAsync(HttpContext context, ClaimsPrincipal user, string projectId, string sessionId, long bytes) =>
        audit.AppendAsync(context, user, "terminal.clipboard.in.dropped", projectId, AuditOutcome.Denied, new Dictionary<string, string>
        {
            ["session"] = sessionId,
            ["bytes"] = Text(bytes),
        });

    /// <summary>A session closed, with its totals.</summary>
    public Task SessionClosedAsync(HttpContext context, ClaimsPrincipal user, string projectId, string sessionId, DesktopEnd end, TimeSpan duration,
        TerminalSession session, int exitCode, long recordedBytes) =>
        audit.AppendAsync(context, user, "terminal.session.closed", projectId, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["session"] = sessionId,
            ["end"] = end.Reason,
            ["durationMs"] = Text((long)duration.TotalMilliseconds),
            ["bytesFromBrowser"] = Text(session.BytesFromBrowser),
            ["bytesToTerminal"] = Text(session.BytesToTerminal),
            ["bytesToBrowser"] = Text(session.BytesToBrowser),
            ["resizes"] = Text(session.Resizes),
            ["pastesForwarded"] = Text(session.Paste.PastesForwarded),
            ["pastesDropped"] = Text(session.Paste.PastesDropped),
            ["exitCode"] = Text(exitCode),
            ["recordedBytes"] = Text(recordedBytes),
        });

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
