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

/// <summary>
/// Authenticates the desktop WebSocket upgrade from <c>?ticket=</c> (a browser cannot send <c>Authorization</c> on a WebSocket):
/// the ticket is redeemed once, for the route's project, and gives the principal it was issued to. Every use and refusal is
/// audited (TIR-26). A request with an <c>Authorization</c> header goes to the bearer schemes instead (<see cref="Selector"/>).
/// </summary>
internal sealed class DesktopTicketAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DesktopTickets tickets, DesktopAudit audit)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The ticket scheme.</summary>
    public const string SchemeName = "desktop-ticket";

    /// <summary>The scheme the desktop endpoint authenticates with: the ticket without an Authorization header, the bearer token with one.</summary>
    public const string Selector = "desktop";

    /// <summary>The query parameter.</summary>
    public const string QueryName = "ticket";

    private DesktopTicketRefusal _refusal;

    /// <summary>Picks the scheme for a desktop request.</summary>
    public static string SelectScheme(HttpContext context) =>
        context.Request.Headers.Authorization.Count == 0 && context.Request.Query.ContainsKey(QueryName) ? SchemeName : IdentitySetup.BearerSelector;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var ticket = Request.Query[QueryName].ToString();
        if (ticket.Length == 0 || Request.RouteValues["projectId"] is not string projectId)
        {
            return AuthenticateResult.NoResult();
        }

        _refusal = tickets.Redeem(ticket, projectId, out var claims);
        if (_refusal != DesktopTicketRefusal.None)
        {
            await AuditAsync(new ClaimsPrincipal(new ClaimsIdentity()), "desktop.ticket.refused", projectId, AuditOutcome.Denied, ReasonOf(_refusal));
            return AuthenticateResult.Fail("The desktop ticket is not valid.");
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, "preferred_username", "role"));
        // Note: the use is durable before the session goes on (fail closed: an audit failure refuses the upgrade).
        await AuditAsync(principal, "desktop.ticket.used", projectId, AuditOutcome.Success, null);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        AuditDenialReason.Set(Context, _refusal == DesktopTicketRefusal.None ? "unauthenticated" : ReasonOf(_refusal));
        return ProblemDetailsSetup.WriteProblemAsync(Context, StatusCodes.Status401Unauthorized, ErrorCodes.DesktopTicketInvalid,
            "The desktop ticket is unknown, expired, already used or for another project: ask for a new one (POST .../desktop/tickets).");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ProblemDetailsSetup.WriteProblemAsync(Context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "Your sign-in did not use a second factor.");

    private static string ReasonOf(DesktopTicketRefusal refusal) => refusal switch
    {
        DesktopTicketRefusal.Expired => "ticket-expired",
        DesktopTicketRefusal.Reused => "ticket-reused",
        DesktopTicketRefusal.OtherProject => "ticket-other-project",
        _ => "ticket-unknown",
    };

    private Task AuditAsync(ClaimsPrincipal actor, string action, string projectId, AuditOutcome outcome, string? reason) =>
        audit.AppendAsync(Context, actor, action, projectId, outcome, reason is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["reason"] = reason });
}
