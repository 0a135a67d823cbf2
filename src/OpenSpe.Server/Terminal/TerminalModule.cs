using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// The terminal module: a web terminal (xterm.js) on a PTY in the member's sandbox, through a gateway that enforces the permit
/// as the desktop's does (TIR-22–TIR-26, SPER-7). It reuses the desktop module's tickets, terms, recording, audit writer, reaper and
/// termination hook, so it is registered after it.
/// </summary>
internal static class TerminalModule
{
    /// <summary>The terminal's ticket scheme.</summary>
    public const string TicketScheme = "terminal-ticket";

    /// <summary>Registers the terminal (section <c>Terminal</c>).</summary>
    public static IServiceCollection AddTerminalModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<TerminalOptions>(TerminalOptions.Section);
        services.AddSingleton<TerminalSessions>();
        services.AddSingleton<IGatedSessions>(s => s.GetRequiredService<TerminalSessions>());
        services.AddSingleton<TerminalAudit>();
        services.AddScoped<TerminalGateway>();
        services.AddAuthentication()
            .AddScheme<SessionTicketOptions, DesktopTicketAuthentication>(TicketScheme, o =>
            {
                o.Kind = TerminalEndpoints.WorkspaceKind;
                o.InvalidTicketCode = ErrorCodes.TerminalTicketInvalid;
            })
            .AddPolicyScheme(TerminalEndpoints.Policy, "Terminal ticket or bearer token",
                o => o.ForwardDefaultSelector = c => DesktopTicketAuthentication.SelectScheme(c, TicketScheme));
        services.AddAuthorizationBuilder().AddPolicy(TerminalEndpoints.Policy, new AuthorizationPolicyBuilder(TerminalEndpoints.Policy)
            .RequireAuthenticatedUser().RequireAssertion(c => IdentitySetup.HasSecondFactor(c.User)).Build());
        return services;
    }

    /// <summary>Maps the terminal API and page.</summary>
    public static IEndpointRouteBuilder MapTerminalModule(this IEndpointRouteBuilder routes)
    {
        routes.MapTerminalEndpoints();
        routes.MapTerminalPage();
        return routes;
    }
}
