using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Desktop;

/// <summary>The ticket scheme's options: which kind of session its tickets open (<c>desktop</c>, <c>terminal</c>).</summary>
internal sealed class SessionTicketOptions : AuthenticationSchemeOptions
{
    /// <summary>The session kind; also the first part of the audit actions (<c>desktop.ticket.used</c>).</summary>
    public string Kind { get; set; } = DesktopEndpoints.WorkspaceKind;

    /// <summary>The error code of a refused ticket.</summary>
    public string InvalidTicketCode { get; set; } = ErrorCodes.DesktopTicketInvalid;
}

/// <summary>
/// Authenticates a session WebSocket upgrade (the desktop's, the terminal's) from <c>?ticket=</c> (a browser cannot send
/// <c>Authorization</c> on a WebSocket): the ticket is redeemed once, for the route's project and the scheme's kind of session,
/// and gives the principal it was issued to. Every use and refusal is audited (TIR-26). A request with an <c>Authorization</c>
/// header goes to the bearer schemes instead (<see cref="SelectScheme"/>).
/// </summary>
internal sealed class DesktopTicketAuthentication(
    IOptionsMonitor<SessionTicketOptions> options, ILoggerFactory logger, UrlEncoder encoder, DesktopTickets tickets, DesktopAudit audit)
    : AuthenticationHandler<SessionTicketOptions>(options, logger, encoder)
{
    /// <summary>The desktop's ticket scheme.</summary>
    public const string SchemeName = "desktop-ticket";

    /// <summary>The scheme the desktop endpoint authenticates with: the ticket without an Authorization header, the bearer token with one.</summary>
    public const string Selector = "desktop";

    /// <summary>The query parameter.</summary>
    public const string QueryName = "ticket";

    private DesktopTicketRefusal _refusal;

    /// <summary>Picks the scheme for a session request: <paramref name="ticketScheme"/> for a ticket, the bearer schemes otherwise.</summary>
    public static string SelectScheme(HttpContext context, string ticketScheme) =>
        context.Request.Headers.Authorization.Count == 0 && context.Request.Query.ContainsKey(QueryName) ? ticketScheme : IdentitySetup.BearerSelector;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var ticket = Request.Query[QueryName].ToString();
        if (ticket.Length == 0 || Request.RouteValues["projectId"] is not string projectId)
        {
            return AuthenticateResult.NoResult();
        }

        _refusal = tickets.Redeem(ticket, projectId, Options.Kind, out var claims);
        if (_refusal != DesktopTicketRefusal.None)
        {
            await AuditAsync(new ClaimsPrincipal(new ClaimsIdentity()), Options.Kind + ".ticket.refused", projectId, AuditOutcome.Denied, ReasonOf(_refusal));
            return AuthenticateResult.Fail("The session ticket is not valid.");
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, "preferred_username", "role"));
        // Note: judged now, not only when the ticket was issued, because a ticket lives up to a minute and a sign-in can end within
        // it (signed out, disabled); the reaper would cut the session a moment later, but by then a shell has run commands.
        if (!await SessionValidation.IsPersonSessionAliveAsync(principal, Context.RequestServices, Context.RequestAborted))
        {
            _refusal = DesktopTicketRefusal.SessionEnded;
            await AuditAsync(principal, Options.Kind + ".ticket.refused", projectId, AuditOutcome.Denied, ReasonOf(_refusal));
            return AuthenticateResult.Fail("The sign-in the session ticket was issued from has ended.");
        }

        // Note: the use is durable before the session goes on (fail closed: an audit failure refuses the upgrade).
        await AuditAsync(principal, Options.Kind + ".ticket.used", projectId, AuditOutcome.Success, null);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        AuditDenialReason.Set(Context, _refusal == DesktopTicketRefusal.None ? "unauthenticated" : ReasonOf(_refusal));
        return ProblemDetailsSetup.WriteProblemAsync(Context, StatusCodes.Status401Unauthorized, Options.InvalidTicketCode,
            _refusal == DesktopTicketRefusal.SessionEnded
                ? $"The sign-in this {Options.Kind} ticket was issued from has ended (signed out, disabled, or its password or second factor changed): sign in again."
                : $"The {Options.Kind} ticket is unknown, expired, already used, for another project or for another kind of session: ask for a new one (POST .../{Options.Kind}/tickets).");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ProblemDetailsSetup.WriteProblemAsync(Context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "Your sign-in did not use a second factor.");

    private static string ReasonOf(DesktopTicketRefusal refusal) => refusal switch
    {
        DesktopTicketRefusal.Expired => "ticket-expired",
        DesktopTicketRefusal.Reused => "ticket-reused",
        DesktopTicketRefusal.OtherProject => "ticket-other-project",
        DesktopTicketRefusal.OtherKind => "ticket-other-kind",
        DesktopTicketRefusal.SessionEnded => "session-ended",
        _ => "ticket-unknown",
    };

    private Task AuditAsync(ClaimsPrincipal actor, string action, string projectId, AuditOutcome outcome, string? reason) =>
        audit.AppendAsync(Context, actor, action, projectId, outcome, reason is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["reason"] = reason });
}
