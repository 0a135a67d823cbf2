using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal;

/// <summary>
/// The web portal at <c>/</c>: server-rendered Razor Pages (no client runtime; anti-forgery on every form), signed in through
/// this SPE's own OpenID Connect server (authorization code + PKCE, the <c>spe-portal</c> client) with a cookie session bound
/// to the tokens, and every page filled from the API with the person's own token.
/// </summary>
internal static class PortalModule
{
    /// <summary>Registers the portal.</summary>
    public static IServiceCollection AddPortalModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddSingleton<PortalBackchannel>();
        services.AddSingleton<PortalSignInFlow>();
        services.AddAuthentication().AddCookie(PortalSession.Scheme, PortalSession.Configure);
        services.AddAuthorizationBuilder().AddPolicy(PortalSession.Policy, new AuthorizationPolicyBuilder(PortalSession.Scheme)
            .RequireAuthenticatedUser().RequireAssertion(c => IdentitySetup.HasSecondFactor(c.User)).Build());
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Portal/Pages";
            // Note: deny by default: every page needs the portal session, except the front page (signed-out people get a
            // sign-in link there) and the two steps of the sign-in flow itself.
            o.Conventions.AuthorizeFolder("/", PortalSession.Policy);
            o.Conventions.AllowAnonymousToPage("/Index");
            o.Conventions.AllowAnonymousToPage("/SignIn");
            o.Conventions.AllowAnonymousToPage("/Callback");
        });
        return services;
    }

    /// <summary>Maps the pages and the portal's own script and style.</summary>
    public static IEndpointRouteBuilder MapPortalModule(this IEndpointRouteBuilder routes)
    {
        routes.MapRazorPages();
        routes.MapGet("/portal/portal.js", () => Embedded("portal.js", "text/javascript")).WithName("portal.script").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/portal/portal.css", () => Embedded("portal.css", "text/css")).WithName("portal.style").AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static IResult Embedded(string name, string contentType)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenSpe.Server.Portal." + name)
            ?? throw new InvalidOperationException($"The portal's {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return Results.Content(reader.ReadToEnd(), contentType + "; charset=utf-8");
    }
}
