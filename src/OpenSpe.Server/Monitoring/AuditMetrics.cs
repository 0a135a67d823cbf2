using System.Globalization;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Monitoring;

/// <summary>
/// Turns audit records, as the writer commits them, into metrics: sign-ins and their refusals, second-factor failures,
/// dropped clipboard transfers, open desktop and terminal sessions, running jobs and approved
/// export bytes. Note: fed from the log rather than from each module, because then a metric can never disagree with
/// the audit record it summarises, and a new module's events need no second instrumentation.
/// </summary>
internal sealed class AuditMetrics(SpeMetrics metrics) : Audit.IAuditObserver
{
    private static readonly HashSet<string> SecondFactorReasons = new(StringComparer.Ordinal)
    {
        "otp-required", "otp-invalid", "otp-replayed", "recovery-code-invalid",
    };

    /// <summary>An append failed: the request that needed the record was refused.</summary>
    public void Failed(AuditEntry entry) => metrics.AuditAppendFailed();

    /// <summary>Records the append's latency and what <paramref name="entry"/>, just committed, says happened.</summary>
    public void Committed(AuditEntry entry, long sequence, TimeSpan elapsed)
    {
        metrics.AuditAppended(elapsed);
        Observe(entry);
    }

    private void Observe(AuditEntry entry)
    {
        switch (entry.Action)
        {
            case "auth.signin":
                var reason = entry.Detail("reason");
                metrics.SignIn(entry.Outcome == AuditOutcome.Success ? "success" : "denied", entry.Outcome == AuditOutcome.Success ? null : reason);
                if (entry.Outcome != AuditOutcome.Success && reason is not null && SecondFactorReasons.Contains(reason))
                {
                    metrics.SecondFactorFailed(reason);
                }

                return;
            case "desktop.session.opened":
                metrics.DesktopSessions(+1);
                return;
            case "desktop.session.closed":
                metrics.DesktopSessions(-1);
                return;
            case "terminal.session.opened":
                metrics.TerminalSessions(+1);
                return;
            case "terminal.session.closed":
                metrics.TerminalSessions(-1);
                return;
            case "job.started":
                metrics.JobsRunning(+1);
                return;
            case "job.ended" or "job.cancelled":
                // Note: a job cancelled while it waited never started; its end carries no start to undo.
                if (entry.Detail("ran") == "true")
                {
                    metrics.JobsRunning(-1);
                }

                return;
            case "desktop.clipboard.in.dropped" or "desktop.clipboard.out.dropped" or "terminal.clipboard.in.dropped":
                var parts = entry.Action.Split('.');
                metrics.ClipboardDropped(parts[0], parts[2]);
                return;
        }

        if (entry.Action == "exports.download" && entry.Detail("stream") == "closed"
            && long.TryParse(entry.Detail("bytes"), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
        {
            metrics.ExportBytes(bytes);
        }
    }
}
