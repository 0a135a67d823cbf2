using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Core.Desktop;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// Asks again, every <see cref="DesktopOptions.AccessRecheckInterval"/> (0.5 s), for every running desktop whether its member
/// may still have it: the access chain (project halted, permit suspended, revoked or ended, member removed from the permit or
/// their role revoked), the sign-in (account disabled, password or second factor changed, signed out) and the permit's policy (its
/// kind still in <c>policies.workspaceKinds</c>, no clipboard direction closed since it was opened). A desktop that may not
/// is stopped and its session closed, within one second (OPR-20). A desktop with no session attached is stopped once it has
/// been idle for the permit's idle timeout (TIR-24).
/// </summary>
/// <remarks>
/// Note: a halt also reaches an open session at once through its request's halt token; this loop is what reaches the desktops
/// without a session and the changes that have no event of their own (the jobs module's hooks are not on main yet).
/// The open sessions of <see cref="IGatedSessions"/> (the terminals) are judged in the same loop by the same rules; each ends with
/// its own session.
/// </remarks>
internal sealed class DesktopReaper(
    DesktopHosts hosts, IEnumerable<IGatedSessions> sessions, IServiceScopeFactory scopes, TimeProvider time, IOptions<DesktopOptions> options, ILogger<DesktopReaper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Note: the real clock, not the server's TimeProvider, because this is a poll of the database, not a policy's time.
        using var timer = new PeriodicTimer(options.Value.AccessRecheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var desktop in hosts.Running)
            {
                try
                {
                    if (await VerdictAsync(desktop, stoppingToken) is { } end)
                    {
                        await hosts.StopAsync(desktop, end == DesktopEnd.Halted ? WorkspaceStopReason.Halted : end == DesktopEnd.Idle ? WorkspaceStopReason.TimedOut
                            : WorkspaceStopReason.AccessRevoked, end.Reason, end);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Note: fail closed: a desktop whose access cannot be checked is stopped.
                    DesktopLog.RecheckFailed(logger, ex, desktop.Member);
                    await hosts.StopAsync(desktop, WorkspaceStopReason.AccessRevoked, "recheck-failed", DesktopEnd.AccessEnded);
                }
            }

            foreach (var source in sessions)
            {
                foreach (var session in source.Open)
                {
                    try
                    {
                        if (await VerdictAsync(session.ProjectId, session.Principal, session.User, source.Action, source.Kind, session.Clipboard, stoppingToken) is { } end)
                        {
                            session.End(end);
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        DesktopLog.RecheckFailed(logger, ex, session.Member);
                        session.End(DesktopEnd.AccessEnded);
                    }
                }
            }
        }
    }

    private async Task<DesktopEnd?> VerdictAsync(RunningDesktop desktop, CancellationToken cancellationToken)
    {
        if (desktop.DetachedAt is { } detached && time.GetUtcNow() - detached >= desktop.IdleTimeout)
        {
            return DesktopEnd.Idle;
        }

        if (desktop.Principal is not { } principal || desktop.User is not { } user)
        {
            return null;
        }

        return await VerdictAsync(desktop.ProjectId, principal, user, DesktopEndpoints.OpenAction, DesktopEndpoints.WorkspaceKind, desktop.Clipboard, cancellationToken);
    }

    private async Task<DesktopEnd?> VerdictAsync(string projectId, AccessPrincipal principal, System.Security.Claims.ClaimsPrincipal user, ProjectAction action,
        string kind, RfbPolicy openedWith, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var chain = scope.ServiceProvider.GetRequiredService<AccessChain>();
        var decision = await chain.DecideAsync(new AccessRequest(principal, projectId, action), cancellationToken);
        decision.Grant?.Dispose();
        if (decision.Refusal is { } refusal)
        {
            return refusal.Kind is AccessRefusalKind.Halted or AccessRefusalKind.HaltStateUnknown ? DesktopEnd.Halted : DesktopEnd.AccessEnded;
        }

        if (!await SessionValidation.IsPersonSessionAliveAsync(user, scope.ServiceProvider, cancellationToken))
        {
            return DesktopEnd.AccessEnded;
        }

        // Note: the permit's policy is read again too, because an amendment can take the session's kind out of
        // policies.workspaceKinds or close a clipboard direction while the access chain still admits the member.
        var policy = await scope.ServiceProvider.GetRequiredService<DesktopPolicies>().ReadAsync(projectId, kind, cancellationToken);
        if (!policy.Allowed)
        {
            return DesktopEnd.KindWithdrawn;
        }

        // Note: a tightened clipboard rule ends the session rather than changing it in place, because the page was told the rule
        // in its first message and applies it itself (the terminal's copy-out, the desktop's clipboard buttons); the session is
        // opened again under the new rule. A loosened rule waits for the next opening.
        return (openedWith.ClipboardIn && !policy.Rfb.ClipboardIn) || (openedWith.ClipboardOut && !policy.Rfb.ClipboardOut) ? DesktopEnd.ClipboardTightened : null;
    }
}
