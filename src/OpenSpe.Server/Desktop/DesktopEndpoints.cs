using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// The desktop API under <c>/api/v1/projects/{projectId}/desktop</c>: the terms of use, tickets, and the WebSocket that carries
/// the RFB bytes in binary frames (as websockify does). All three pass the access chain as <c>project.desktop.open</c>: the
/// permit's data users only, while the permit is in force and the project is not halted, and only where the permit's
/// <c>policies.workspaceKinds</c> names <c>desktop</c>.
/// </summary>
internal static class DesktopEndpoints
{
    /// <summary>The authorization policy of the WebSocket: a person with a second factor, by bearer token or ticket.</summary>
    public const string Policy = "desktop";

    /// <summary>The workspace kind the permit must allow.</summary>
    public const string WorkspaceKind = "desktop";

    private static readonly ProjectActionAttribute OpenAttribute = new("project.desktop.open", SpeRoles.Researcher);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapDesktopEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/projects/{projectId}/desktop").WithTags("Desktop").WithMetadata(new AuditResourceAttribute("project"))
            .WithMetadata(OpenAttribute).ProducesProjectProblems();
        group.MapGet("/terms", Terms).WithName("desktop.terms").RequireAuthorization(SpePolicies.Human)
            .WithSummary("The terms of use a researcher accepts before each desktop session (SPER-7).");
        group.MapPost("/tickets", IssueTicketAsync).WithName("desktop.tickets.create").RequireAuthorization(SpePolicies.Human)
            .Validate<DesktopTicketRequest>().ProducesProblems(503)
            .WithSummary("A short-lived single-use ticket that opens the desktop WebSocket once (?ticket=); the body accepts the terms of use.");
        group.MapGet("", OpenAsync).WithName("desktop.open").RequireAuthorization(Policy).WithAuditStreaming()
            .Produces(StatusCodes.Status101SwitchingProtocols).ProducesProblems(400, 503)
            .WithSummary("The desktop's WebSocket (subprotocol 'binary', RFB in binary frames). Authenticate with Authorization: Bearer and the "
                + "Spe-Terms-Accepted header, or with ?ticket= from POST .../desktop/tickets.");
        // Note: browsers open WebSockets over HTTP/2 with an extended CONNECT (RFC 8441); routing runs before the WebSocket
        // middleware turns it into a GET, so the same handler answers CONNECT too.
        group.MapMethods("", ["CONNECT"], OpenAsync).WithName("desktop.open.h2").RequireAuthorization(Policy).WithAuditStreaming().ExcludeFromDescription();
        return routes;
    }

    private static Ok<DesktopTermsView> Terms(IOptions<DesktopOptions> options) => TypedResults.Ok(new DesktopTermsView(options.Value.TermsVersion, options.Value.TermsText));

    private static async Task<Results<Ok<DesktopTicketView>, ProblemHttpResult>> IssueTicketAsync(string projectId, DesktopTicketRequest request, HttpContext context,
        DesktopPolicies policies, DesktopTickets tickets, DesktopAudit audit, IOptions<DesktopOptions> options)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (await policies.RefuseAsync(context, access) is { } refusal)
        {
            return refusal;
        }

        if (!request.AcceptTerms || !string.Equals(request.TermsVersion, options.Value.TermsVersion, StringComparison.Ordinal))
        {
            return TermsNotAccepted(context, options.Value);
        }

        await audit.TermsAcceptedAsync(context, projectId, options.Value.TermsVersion);
        if (TicketNotIssued(context, tickets.TryIssue(context.User, projectId, WorkspaceKind, out var ticket, out var expiresAt)) is { } notIssued)
        {
            return notIssued;
        }

        await audit.AppendAsync(context, context.User, "desktop.ticket.issued", projectId, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["expiresAt"] = expiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        return TypedResults.Ok(new DesktopTicketView(ticket, expiresAt));
    }

    private static async Task<IResult> OpenAsync(string projectId, HttpContext context, DesktopPolicies policies, DesktopGateway gateway, DesktopAudit audit,
        IOptions<DesktopOptions> options)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "This is a WebSocket endpoint: open it with a WebSocket upgrade (subprotocol 'binary').",
                ErrorCodes.DesktopNotWebSocket);
        }

        if (CrossOrigin(context) is { } crossOrigin)
        {
            return crossOrigin;
        }

        if (await policies.RefuseAsync(context, access) is { } refusal)
        {
            return refusal;
        }

        // Note: a ticket was issued only after the terms were accepted; a bearer client accepts them with the upgrade (SPER-7).
        if (context.User.Identity?.AuthenticationType != DesktopTicketAuthentication.SchemeName)
        {
            if (!string.Equals(context.Request.Headers[DesktopProtocol.TermsHeader].ToString(), options.Value.TermsVersion, StringComparison.Ordinal))
            {
                return TermsNotAccepted(context, options.Value);
            }

            await audit.TermsAcceptedAsync(context, projectId, options.Value.TermsVersion);
        }

        return await gateway.RunAsync(context, access);
    }

    /// <summary>
    /// A 403 when a browser opens a session WebSocket from a page of another origin (shared with the terminal), or null. Clients that
    /// send no <c>Origin</c> (the CLI) pass: a browser always sends it on a WebSocket upgrade, and cannot leave it out.
    /// </summary>
    /// <remarks>
    /// Note: defence in depth. Neither tickets nor bearer tokens ride on cookies, so another site cannot open a session in the
    /// victim's name today; this keeps it so if a cookie session is ever accepted here.
    /// </remarks>
    internal static ProblemHttpResult? CrossOrigin(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        AuditDenialReason.Set(context, "cross-origin");
        return Problems.Of(StatusCodes.Status403Forbidden, "This session can be opened only from the SPE's own pages: open it from the portal.",
            ErrorCodes.SessionCrossOrigin);
    }

    /// <summary>The problem answer when no session ticket was issued (shared with the terminal's ticket endpoint), or null when one was.</summary>
    internal static ProblemHttpResult? TicketNotIssued(HttpContext context, DesktopTicketIssueRefusal refusal)
    {
        switch (refusal)
        {
            case DesktopTicketIssueRefusal.AccountLimit:
                AuditDenialReason.Set(context, "tickets-outstanding");
                return Problems.Of(StatusCodes.Status429TooManyRequests,
                    $"You hold {DesktopTickets.MaxOutstandingPerAccount} session tickets you have not used: open a session with one of them, or wait "
                    + "for them to expire and ask again.", ErrorCodes.SessionTicketsOutstanding);
            case DesktopTicketIssueRefusal.Full:
                return Problems.Of(StatusCodes.Status503ServiceUnavailable,
                    "This server holds as many session tickets as it keeps: ask again within a minute.", ErrorCodes.SessionTicketsFull);
            default:
                return null;
        }
    }

    private static ProblemHttpResult TermsNotAccepted(HttpContext context, DesktopOptions options)
    {
        AuditDenialReason.Set(context, "terms-not-accepted");
        return Problems.Of(StatusCodes.Status400BadRequest,
            $"Accept the terms of use (GET .../desktop/terms) first: send acceptTerms true and termsVersion '{options.TermsVersion}' "
            + $"(a bearer client: the {DesktopProtocol.TermsHeader} header).", ErrorCodes.DesktopTermsNotAccepted);
    }

    /// <summary>The chain's action of a desktop session, for the gateway's re-checks while it runs.</summary>
    public static ProjectAction OpenAction => OpenAttribute.Action;
}
