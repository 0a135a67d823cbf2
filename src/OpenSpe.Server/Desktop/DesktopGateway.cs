using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Vault;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// Opens a desktop session for an admitted request: attaches to (or starts) the member's desktop, starts the encrypted
/// recording, audits the opening, accepts the WebSocket and runs the <see cref="DesktopSession"/> until it ends; then stores
/// the recording, stops the desktop where the end requires it and audits the close.
/// </summary>
internal sealed class DesktopGateway(
    DesktopHosts hosts,
    DesktopPolicies policies,
    DesktopAudit audit,
    IObjectStore objects,
    IProjectKeyStore keys,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IOptions<DesktopOptions> options,
    ILogger<DesktopGateway> logger)
{
    /// <summary>Runs the session of <paramref name="context"/>'s WebSocket request.</summary>
    public async Task<IResult> RunAsync(HttpContext context, ProjectAccess access)
    {
        var projectId = access.Permit.ProjectId;
        var user = context.User;
        var accountId = user.FindFirst("sub")?.Value ?? throw new InvalidOperationException("A person's principal without sub passed the access chain.");
        var member = MemberName(user);
        var policy = await policies.ReadAsync(access.Permit, context.RequestAborted);

        RunningDesktop desktop;
        Stream vnc;
        bool started;
        try
        {
            (desktop, vnc, started) = await hosts.AttachAsync(projectId, accountId, member, context.RequestAborted);
        }
        catch (WorkspaceStartException ex)
        {
            AuditDenialReason.Set(context, "desktop-start-failed");
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, $"The desktop did not start: {ex.Message}.", ErrorCodes.DesktopStartFailed);
        }

        desktop.Principal = ProjectAccessSetup.PrincipalOf(user);
        desktop.User = user;
        desktop.IdleTimeout = policy.IdleTimeout;
        desktop.Clipboard = policy.Rfb;
        var sessionId = Guid.CreateVersion7().ToString("N");
        DesktopRecording recording;
        try
        {
            recording = await DesktopRecording.StartAsync(objects, keys, projectId, sessionId, options.Value.MaxRecordingBytes, time, context.RequestAborted);
        }
        catch
        {
            await vnc.DisposeAsync();
            throw;
        }

        await using (recording)
        {
            // Note: the opening is durable before the WebSocket is accepted; if it cannot be written nothing is shown (fail closed).
            await audit.SessionOpenedAsync(context, projectId, sessionId, recording.Key, started);
            using var browser = await context.WebSockets.AcceptWebSocketAsync(
                context.WebSockets.WebSocketRequestedProtocols.Contains(DesktopProtocol.Subprotocol) ? DesktopProtocol.Subprotocol : null);
            DesktopLog.SessionOpened(logger, sessionId, member, projectId);
            var openedAt = Stopwatch.GetTimestamp();

            using var session = new DesktopSession(policy.Rfb, policy.IdleTimeout, options.Value.MaxSessionLength, time);
            Action<DesktopEnd> detach = session.End;
            desktop.Attach(detach);
            using var halted = access.Grant.Halted.Register(() => session.End(DesktopEnd.Halted));
            using var stopping = lifetime.ApplicationStopping.Register(() => session.End(DesktopEnd.Shutdown));
            var drops = AuditDropsAsync(context, user, projectId, sessionId, session);

            var end = await session.RunAsync(browser, vnc, recording);
            desktop.Detach(detach, time.GetUtcNow());
            await drops;
            var duration = Stopwatch.GetElapsedTime(openedAt);
            if (end == DesktopEnd.RecordingFailed)
            {
                DesktopLog.RecordingFailed(logger, session.RecordingError!, sessionId);
            }
            else if (session.StreamError is { } broken)
            {
                DesktopLog.StreamBroke(logger, broken, sessionId, end.Reason);
            }
            else
            {
                await StoreRecordingAsync(recording, sessionId);
            }

            if (end.StopsDesktop)
            {
                await hosts.StopAsync(desktop, StopReasonOf(end), end.Reason, end);
            }

            DesktopLog.SessionClosed(logger, sessionId, end.Reason, (long)duration.TotalMilliseconds);
            await audit.SessionClosedAsync(context, user, projectId, sessionId, end, duration, session, recording.Bytes);
        }

        return Results.Empty;
    }

    /// <summary>The member's name in the sandbox (<c>/home/&lt;member&gt;</c>): the account name, kept to safe characters.</summary>
    internal static string MemberName(ClaimsPrincipal user)
    {
        var name = user.FindFirst("preferred_username")?.Value ?? user.FindFirst("sub")!.Value;
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).TrimStart('.');
        return safe.Length == 0 ? "member" : safe;
    }

    private static WorkspaceStopReason StopReasonOf(DesktopEnd end) =>
        end == DesktopEnd.Halted ? WorkspaceStopReason.Halted
        : end == DesktopEnd.AccessEnded ? WorkspaceStopReason.AccessRevoked
        : end == DesktopEnd.Idle || end == DesktopEnd.MaxLength ? WorkspaceStopReason.TimedOut
        : end == DesktopEnd.Shutdown ? WorkspaceStopReason.Shutdown
        : WorkspaceStopReason.Requested;

    private async Task StoreRecordingAsync(DesktopRecording recording, string sessionId)
    {
        try
        {
            await recording.CompleteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            DesktopLog.RecordingFailed(logger, ex, sessionId);
        }
    }

    /// <summary>Audits each dropped clipboard attempt as it happens; a record that cannot be written ends the session (fail closed).</summary>
    private async Task AuditDropsAsync(HttpContext context, ClaimsPrincipal user, string projectId, string sessionId, DesktopSession session)
    {
        await foreach (var drop in session.ClipboardDrops.ReadAllAsync())
        {
            try
            {
                await audit.ClipboardDroppedAsync(context, user, projectId, sessionId, drop);
            }
            catch (AuditUnavailableException)
            {
                session.End(DesktopEnd.AuditFailed);
            }
        }
    }
}
