using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// The web terminal under <c>/api/v1/projects/{projectId}/terminal</c>: the terms of use, tickets, and the WebSocket that carries
/// the terminal (binary frames: terminal bytes both ways; text frames: JSON control messages). All three pass the access chain
/// as <c>project.terminal.open</c>: the permit's data users only, while the permit is in force and the project is not halted, and
/// only where the permit's <c>policies.workspaceKinds</c> names <c>terminal</c>. Tickets and terms are the desktop's.
/// </summary>
internal static class TerminalEndpoints
{
    /// <summary>The authorization policy of the WebSocket: a person with a second factor, by bearer token or terminal ticket.</summary>
    public const string Policy = "terminal";

    /// <summary>The workspace kind the permit must allow.</summary>
    public const string WorkspaceKind = "terminal";

    private static readonly ProjectActionAttribute OpenAttribute = new("project.terminal.open", SpeRoles.Researcher);

    /// <summary>The chain's action of a terminal session, for the reaper's re-checks while it runs.</summary>
    public static ProjectAction OpenAction => OpenAttribute.Action;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapTerminalEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/projects/{projectId}/terminal").WithTags("Terminal").WithMetadata(new AuditResourceAttribute("project"))
            .WithMetadata(OpenAttribute).ProducesProjectProblems();
        group.MapGet("/terms", Terms).WithName("terminal.terms").RequireAuthorization(SpePolicies.Human)
            .WithSummary("The terms of use a researcher accepts before each terminal session (SPER-7; the desktop's terms).");
        group.MapPost("/tickets", IssueTicketAsync).WithName("terminal.tickets.create").RequireAuthorization(SpePolicies.Human)
            .Validate<DesktopTicketRequest>().ProducesProblems(503)
            .WithSummary("A short-lived single-use ticket that opens the terminal WebSocket once (?ticket=); the body accepts the terms of use.");
        group.MapGet("", OpenAsync).WithName("terminal.open").RequireAuthorization(Policy).WithAuditStreaming()
            .Produces(StatusCodes.Status101SwitchingProtocols).ProducesProblems(400, 503)
            .WithSummary("The terminal's WebSocket: binary frames carry terminal bytes both ways, text frames JSON control messages "
                + "({\"type\":\"resize\",\"cols\":C,\"rows\":R}). Authenticate with Authorization: Bearer and the Spe-Terms-Accepted header, or with "
                + "?ticket= from POST .../terminal/tickets.");
        // Note: as for the desktop, a browser may open the WebSocket over HTTP/2 with an extended CONNECT (RFC 8441).
        group.MapMethods("", ["CONNECT"], OpenAsync).WithName("terminal.open.h2").RequireAuthorization(Policy).WithAuditStreaming().ExcludeFromDescription();
        return routes;
    }

    private static Ok<DesktopTermsView> Terms(IOptions<DesktopOptions> options) => TypedResults.Ok(new DesktopTermsView(options.Value.TermsVersion, options.Value.TermsText));

    private static async Task<Results<Ok<DesktopTicketView>, ProblemHttpResult>> IssueTicketAsync(string projectId, DesktopTicketRequest request, HttpContext context,
        DesktopPolicies policies, IWorkspaceRuntime runtime, DesktopTickets tickets, TerminalAudit audit, IOptions<DesktopOptions> desktop, IOptions<TerminalOptions> options)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (await RefuseAsync(context, access, policies, runtime, options.Value) is { } refusal)
        {
            return refusal;
        }

        if (!request.AcceptTerms || !string.Equals(request.TermsVersion, desktop.Value.TermsVersion, StringComparison.Ordinal))
        {
            return TermsNotAccepted(context, desktop.Value);
        }

        await audit.TermsAcceptedAsync(context, projectId, desktop.Value.TermsVersion);
        if (DesktopEndpoints.TicketNotIssued(context, tickets.TryIssue(context.User, projectId, WorkspaceKind, out var ticket, out var expiresAt)) is { } notIssued)
        {
            return notIssued;
        }

        await audit.TicketIssuedAsync(context, projectId, expiresAt);
        return TypedResults.Ok(new DesktopTicketView(ticket, expiresAt));
    }

    private static async Task<IResult> OpenAsync(string projectId, HttpContext context, DesktopPolicies policies, IWorkspaceRuntime runtime, TerminalGateway gateway,
        TerminalAudit audit, IOptions<DesktopOptions> desktop, IOptions<TerminalOptions> options)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "This is a WebSocket endpoint: open it with a WebSocket upgrade.", ErrorCodes.TerminalNotWebSocket);
        }

        if (DesktopEndpoints.CrossOrigin(context) is { } crossOrigin)
        {
            return crossOrigin;
        }

        if (await RefuseAsync(context, access, policies, runtime, options.Value) is { } refusal)
        {
            return refusal;
        }

        // Note: a ticket was issued only after the terms were accepted; a bearer client accepts them with the upgrade (SPER-7).
        if (context.User.Identity?.AuthenticationType != TerminalModule.TicketScheme)
        {
            if (!string.Equals(context.Request.Headers[DesktopProtocol.TermsHeader].ToString(), desktop.Value.TermsVersion, StringComparison.Ordinal))
            {
                return TermsNotAccepted(context, desktop.Value);
            }

            await audit.TermsAcceptedAsync(context, projectId, desktop.Value.TermsVersion);
        }

        return await gateway.RunAsync(context, access);
    }

    /// <summary>A refusal when the permit does not allow terminals or none can run here; null to go on.</summary>
    private static async Task<ProblemHttpResult?> RefuseAsync(HttpContext context, ProjectAccess access, DesktopPolicies policies, IWorkspaceRuntime runtime,
        TerminalOptions options)
    {
        var policy = await policies.ReadAsync(access.Permit, context.RequestAborted, WorkspaceKind);
        if (!policy.Allowed)
        {
            AuditDenialReason.Set(context, "workspace-kind-not-allowed");
            return Problems.Of(StatusCodes.Status403Forbidden, "The project's permit does not allow terminals (policies.workspaceKinds has no 'terminal').",
                ErrorCodes.TerminalNotAllowed);
        }

        var why = !runtime.Availability.IsAvailable ? runtime.Availability.Reason
            : !File.Exists(options.Python) ? $"the PTY helper's Python {options.Python} is not installed (Debian package python3-minimal)"
            : !File.Exists(options.Shell[0]) ? $"the shell {options.Shell[0]} is not installed"
            : null;
        if (why is not null)
        {
            AuditDenialReason.Set(context, "terminal-unavailable");
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, $"Terminals cannot run on this server: {why}.", ErrorCodes.TerminalUnavailable);
        }

        return null;
    }

    private static ProblemHttpResult TermsNotAccepted(HttpContext context, DesktopOptions options)
    {
        AuditDenialReason.Set(context, "terms-not-accepted");
        return Problems.Of(StatusCodes.Status400BadRequest,
            $"Accept the terms of use (GET .../terminal/terms) first: send acceptTerms true and termsVersion '{options.TermsVersion}' "
            + $"(a bearer client: the {DesktopProtocol.TermsHeader} header).", ErrorCodes.TerminalTermsNotAccepted);
    }
}
