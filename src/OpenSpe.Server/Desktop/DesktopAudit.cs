using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Desktop;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// The desktop's audit records (TIR-26): terms accepted, tickets issued, sessions opened and closed (who, when, from where, how
/// long, bytes each way, input events, why it ended) and every dropped clipboard attempt. Each names the project. The
/// ticket's own use and refusal are written by <see cref="DesktopTicketAuthentication"/>.
/// </summary>
internal sealed class DesktopAudit(IAuditLog audit)
{
    /// <summary>The terms of use were accepted (SPER-7).</summary>
    public Task TermsAcceptedAsync(HttpContext context, string projectId, string version) =>
        AppendAsync(context, context.User, "desktop.terms.accepted", projectId, AuditOutcome.Success, new Dictionary<string, string> { ["termsVersion"] = version });

    /// <summary>A session opened; durable before the WebSocket is accepted.</summary>
    public Task SessionOpenedAsync(HttpContext context, string projectId, string sessionId, string recording, bool started) =>
        AppendAsync(context, context.User, "desktop.session.opened", projectId, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["session"] = sessionId,
            ["recording"] = recording,
            ["desktop"] = started ? "started" : "re-attached",
        });

    /// <summary>A clipboard attempt the permit's policy dropped: its direction and size, never its contents (TIR-25).</summary>
    public Task ClipboardDroppedAsync(HttpContext context, ClaimsPrincipal user, string projectId, string sessionId, RfbClipboardDrop drop) =>
        AppendAsync(context, user, drop.Direction == RfbDirection.ClientToServer ? "desktop.clipboard.in.dropped" : "desktop.clipboard.out.dropped",
            projectId, AuditOutcome.Denied, new Dictionary<string, string>
            {
                ["session"] = sessionId,
                ["bytes"] = drop.Length.ToString(CultureInfo.InvariantCulture),
                ["extended"] = drop.Extended ? "true" : "false",
            });

    /// <summary>A session closed, with its totals.</summary>
    public Task SessionClosedAsync(HttpContext context, ClaimsPrincipal user, string projectId, string sessionId, DesktopEnd end, TimeSpan duration,
        DesktopSession session, long recordedBytes) =>
        AppendAsync(context, user, "desktop.session.closed", projectId, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["session"] = sessionId,
            ["end"] = end.Reason,
            ["durationMs"] = Text((long)duration.TotalMilliseconds),
            ["bytesFromBrowser"] = Text(session.ClientCounters.BytesIn),
            ["bytesToDesktop"] = Text(session.ClientCounters.BytesForwarded),
            ["bytesFromDesktop"] = Text(session.ServerCounters.BytesIn),
            ["bytesToBrowser"] = Text(session.ServerCounters.BytesForwarded),
            ["keyEvents"] = Text(session.ClientCounters.KeyEvents),
            ["pointerEvents"] = Text(session.ClientCounters.PointerEvents),
            ["clipboardInDropped"] = Text(session.ClientCounters.ClipboardDropped),
            ["clipboardOutDropped"] = Text(session.ServerCounters.ClipboardDropped),
            ["clipboardInForwarded"] = Text(session.ClientCounters.ClipboardForwarded),
            ["clipboardOutForwarded"] = Text(session.ServerCounters.ClipboardForwarded),
            ["recordedBytes"] = Text(recordedBytes),
        });

    /// <summary>Appends a desktop record about <paramref name="projectId"/>.</summary>
    public Task AppendAsync(HttpContext context, ClaimsPrincipal user, string action, string projectId, AuditOutcome outcome, IReadOnlyDictionary<string, string> details) =>
        audit.AppendAsync(new AuditEntry(AuditActors.From(user, context), action, new AuditResource("project", projectId, projectId), outcome, null,
            TraceIds.Current(context), details), CancellationToken.None);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
