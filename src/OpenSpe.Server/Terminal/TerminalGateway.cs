using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Contracts;
using OpenSpe.Core.Terminal;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Vault;
using OpenSpe.Server.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// Opens a terminal session for an admitted request: stages the permit's data (<c>/data</c>), starts the PTY helper and the
/// shell in the member's sandbox, starts the encrypted recording, audits the opening, accepts the WebSocket and runs the
/// <see cref="TerminalSession"/> until it ends; then stops the shell, stores the recording, releases the data and audits the close.
/// </summary>
internal sealed class TerminalGateway(
    IWorkspaceRuntime runtime,
    IPlaintextStaging staging,
    DatasetStager stager,
    DesktopPolicies policies,
    TerminalSessions sessions,
    TerminalAudit audit,
    IObjectStore objects,
    IProjectKeyStore keys,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IOptions<TerminalOptions> options,
    ILogger<TerminalGateway> logger)
{
    /// <summary>The window size the shell starts with, until the browser sends its own.</summary>
    private const int InitialRows = 24;

    private const int InitialCols = 80;

    /// <summary>Runs the session of <paramref name="context"/>'s WebSocket request.</summary>
    public async Task<IResult> RunAsync(HttpContext context, ProjectAccess access)
    {
        var projectId = access.Permit.ProjectId;
        var user = context.User;
        var member = DesktopGateway.MemberName(user);
        var policy = await policies.ReadAsync(access.Permit, context.RequestAborted, TerminalEndpoints.WorkspaceKind);

        IPlaintextLease? lease = null;
        IWorkspaceProcess shell;
        try
        {
            lease = await stager.LeaseAsync(staging, projectId, context.RequestAborted);
            shell = await runtime.StartAsync(Spec(projectId, member, lease), context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Note: the exception's type only goes to the client: its message may name host paths.
            TerminalLog.StartFailed(logger, ex, member, projectId, ex.GetType().Name);
            if (lease is not null)
            {
                await lease.DisposeAsync();
            }

            AuditDenialReason.Set(context, "terminal-start-failed");
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "The terminal did not start in the project's sandbox; the operator's log has the cause.",
                ErrorCodes.TerminalStartFailed);
        }

        await using (lease)
        await using (shell)
        {
            return await RunStartedAsync(context, access, policy, member, shell);
        }
    }

    private async Task<IResult> RunStartedAsync(HttpContext context, ProjectAccess access, DesktopPermitPolicy policy, string member, IWorkspaceProcess shell)
    {
        var projectId = access.Permit.ProjectId;
        var user = context.User;
        var sessionId = Guid.CreateVersion7().ToString("N");
        await using var recording = await DesktopRecording.StartTerminalAsync(objects, keys, projectId, sessionId, options.Value.MaxRecordingBytes, time,
            context.RequestAborted);

        // Note: the opening is durable before the WebSocket is accepted; if it cannot be written nothing is shown (fail closed).
        await audit.SessionOpenedAsync(context, projectId, sessionId, recording.Key);
        using var browser = await context.WebSockets.AcceptWebSocketAsync();
        TerminalLog.SessionOpened(logger, sessionId, member, projectId);
        var openedAt = Stopwatch.GetTimestamp();

        var o = options.Value;
        using var session = new TerminalSession(new BracketedPasteFilter(policy.Rfb.ClipboardIn), policy.IdleTimeout, o.MaxSessionLength, o.MaxInputMessageBytes, time);
        sessions.Add(sessionId, new GatedSession(projectId, member, ProjectAccessSetup.PrincipalOf(user), user, session.End, policy.Rfb), shell);
        try
        {
            using var halted = access.Grant.Halted.Register(() => session.End(DesktopEnd.Halted));
            using var stopping = lifetime.ApplicationStopping.Register(() => session.End(DesktopEnd.Shutdown));
            var drops = AuditDropsAsync(context, projectId, sessionId, session);
            var hello = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["type"] = TerminalProtocol.HelloType,
                ["session"] = sessionId,
                ["clipboardIn"] = policy.Rfb.ClipboardIn,
                ["clipboardOut"] = policy.Rfb.ClipboardOut,
            });
            var end = await session.RunAsync(browser, shell, recording, hello);
            await drops;
            var exit = await shell.Completion;
            var duration = Stopwatch.GetElapsedTime(openedAt);
            if (end == DesktopEnd.RecordingFailed)
            {
                TerminalLog.RecordingFailed(logger, session.RecordingError!, sessionId);
            }
            else
            {
                await StoreRecordingAsync(recording, sessionId);
            }

            TerminalLog.SessionClosed(logger, sessionId, end.Reason, (long)duration.TotalMilliseconds, exit.ExitCode);
            await audit.SessionClosedAsync(context, user, projectId, sessionId, end, duration, session, exit.ExitCode, recording.Bytes);
        }
        finally
        {
            sessions.Remove(sessionId);
        }

        return Results.Empty;
    }

    private WorkspaceSpec Spec(string projectId, string member, IPlaintextLease lease)
    {
        var o = options.Value;
        List<string> command = [o.Python, "-I", "-S", "-c", TerminalPty.Script,
            InitialRows.ToString(System.Globalization.CultureInfo.InvariantCulture), InitialCols.ToString(System.Globalization.CultureInfo.InvariantCulture), .. o.Shell];
        return new WorkspaceSpec
        {
            ProjectId = projectId,
            Member = member,
            Command = command,
            WorkingDirectory = "/project",
            Environment = new Dictionary<string, string>
            {
                ["TERM"] = "xterm-256color",
                ["SHELL"] = o.Shell[0],
                ["PS1"] = @"\u@\h:\w\$ ",
            },
            Data = lease,
        };
    }

    private async Task StoreRecordingAsync(DesktopRecording recording, string sessionId)
    {
        try
        {
            await recording.CompleteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            TerminalLog.RecordingFailed(logger, ex, sessionId);
        }
    }

    /// <summary>Audits each dropped paste as it happens; a record that cannot be written ends the session (fail closed).</summary>
    private async Task AuditDropsAsync(HttpContext context, string projectId, string sessionId, TerminalSession session)
    {
        await foreach (var bytes in session.PasteDrops.ReadAllAsync())
        {
            try
            {
                await audit.PasteDroppedAsync(context, context.User, projectId, sessionId, bytes);
            }
            catch (AuditUnavailableException)
            {
                session.End(DesktopEnd.AuditFailed);
            }
        }
    }
}
