using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// The desktop module: the browser remote desktop through a gateway that enforces the permit (TIR-18–TIR-26): tickets, the
/// WebSocket gateway over the RFB filter, the members' desktops in the project sandboxes, their recordings, and the page.
/// </summary>
internal static class DesktopModule
{
    /// <summary>Registers the desktop (section <c>Desktop</c>); uses the registered <see cref="IWorkspaceRuntime"/>, or answers 503 without one.</summary>
    public static IServiceCollection AddDesktopModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<DesktopOptions>(DesktopOptions.Section);
        services.TryAddSingleton<IWorkspaceRuntime, Workspaces.UnavailableWorkspaceRuntime>();
        services.AddSingleton<DesktopTickets>();
        services.AddSingleton<DesktopHosts>();
        services.AddSingleton<DesktopAudit>();
        services.AddScoped<DesktopPolicies>();
        services.AddScoped<DesktopGateway>();
        services.AddHostedService<DesktopReaper>();
        services.AddScoped<IProjectTerminationHook, DesktopTerminationHook>();
        services.AddAuthentication()
            .AddScheme<SessionTicketOptions, DesktopTicketAuthentication>(DesktopTicketAuthentication.SchemeName, o => o.Kind = DesktopEndpoints.WorkspaceKind)
            .AddPolicyScheme(DesktopTicketAuthentication.Selector, "Desktop ticket or bearer token",
                o => o.ForwardDefaultSelector = c => DesktopTicketAuthentication.SelectScheme(c, DesktopTicketAuthentication.SchemeName));
        services.AddAuthorizationBuilder().AddPolicy(DesktopEndpoints.Policy, new AuthorizationPolicyBuilder(DesktopTicketAuthentication.Selector)
            .RequireAuthenticatedUser().RequireAssertion(c => IdentitySetup.HasSecondFactor(c.User)).Build());
        return services;
    }

    /// <summary>Maps the desktop API and page.</summary>
    public static IEndpointRouteBuilder MapDesktopModule(this IEndpointRouteBuilder routes)
    {
        routes.MapDesktopEndpoints();
        routes.MapDesktopPage();
        return routes;
    }
}
