using System.Reflection;
using Microsoft.AspNetCore.Authentication;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal.Pages;

/// <summary>
/// The portal's front page at <c>/</c>: for a signed-in person, the places their roles open; for anyone else the product,
/// its version, a sign-in link and the command line. It shows nothing an anonymous visitor could not see.
/// </summary>
internal sealed class IndexModel : PortalPageModel
{
    /// <summary>The product version.</summary>
    public string Version { get; } = typeof(IndexModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>True with a live portal session.</summary>
    public bool SignedIn { get; private set; }

    /// <summary>The name of a person signed in on the sign-in page only (not yet in the portal).</summary>
    public string? SignInName { get; private set; }

    /// <summary>This server's origin, for the command line.</summary>
    public string Origin => $"https://{Request.Host.Value}";

    /// <summary>Where the person's roles take them: link, name, what it is for.</summary>
    public IReadOnlyList<(string Href, string Name, string What)> Places { get; private set; } = [];

    /// <summary>Shows the page.</summary>
    public async Task OnGetAsync()
    {
        var portal = await HttpContext.AuthenticateAsync(PortalSession.Scheme);
        if (portal.Succeeded && IdentitySetup.HasSecondFactor(portal.Principal!))
        {
            // Note: the front page is open to all, so the portal session is read here, with the same liveness check as every page.
            HttpContext.User = portal.Principal!;
            SignedIn = true;
            Title = PortalText.Get("HomeTitle");
            Places = PlacesFor(portal.Principal!);
            return;
        }

        var session = await HttpContext.AuthenticateAsync(IdentitySetup.SessionCookie);
        SignInName = session.Succeeded ? session.Principal?.FindFirst("preferred_username")?.Value : null;
    }

    private static List<(string, string, string)> PlacesFor(System.Security.Claims.ClaimsPrincipal user)
    {
        var places = new List<(string, string, string)>();
        if (user.IsInRole(SpeRoles.Researcher) || user.IsInRole(SpeRoles.DataHolder))
        {
            places.Add(("/projects", PortalText.Get("NavProjects"), PortalText.Get("PlaceProjects")));
        }

        if (user.IsInRole(SpeRoles.OutputChecker))
        {
            places.Add(("/review", PortalText.Get("NavReview"), PortalText.Get("PlaceReview")));
        }

        if (user.IsInRole(SpeRoles.Hdab))
        {
            places.Add(("/permits", PortalText.Get("NavPermits"), PortalText.Get("PlacePermits")));
            places.Add(("/privacy", PortalText.Get("NavPrivacy"), PortalText.Get("PlacePrivacy")));
        }

        if (user.IsInRole(SpeRoles.Hdab) || user.IsInRole(SpeRoles.Operator))
        {
            places.Add(("/halts", PortalText.Get("NavHalts"), PortalText.Get("PlaceHalts")));
        }

        // Note: the API's ExportRegistryReaders: HDAB officers and output checkers.
        if (user.IsInRole(SpeRoles.Hdab) || user.IsInRole(SpeRoles.OutputChecker))
        {
            places.Add(("/exports", PortalText.Get("NavExportRegistry"), PortalText.Get("PlaceExportRegistry")));
        }

        // Note: the same roles as the API's: alerts and backups for operators and auditors (OperationsReaders), incidents and
        // components for them and HDAB officers (IncidentReaders, ComponentReaders); the API refuses anyone else whatever the links say.
        if (user.IsInRole(SpeRoles.Operator) || user.IsInRole(SpeRoles.Auditor))
        {
            places.Add(("/alerts", PortalText.Get("NavAlerts"), PortalText.Get("PlaceAlerts")));
        }

        if (user.IsInRole(SpeRoles.Operator) || user.IsInRole(SpeRoles.Auditor) || user.IsInRole(SpeRoles.Hdab))
        {
            places.Add(("/incidents", PortalText.Get("NavIncidents"), PortalText.Get("PlaceIncidents")));
        }

        if (user.IsInRole(SpeRoles.Operator) || user.IsInRole(SpeRoles.Auditor))
        {
            places.Add(("/backups", PortalText.Get("NavBackups"), PortalText.Get("PlaceBackups")));
        }

        if (user.IsInRole(SpeRoles.Operator) || user.IsInRole(SpeRoles.Auditor) || user.IsInRole(SpeRoles.Hdab))
        {
            places.Add(("/components", PortalText.Get("NavComponents"), PortalText.Get("PlaceComponents")));
        }

        if (user.IsInRole(SpeRoles.Auditor))
        {
            places.Add(("/audit", PortalText.Get("NavAudit"), PortalText.Get("PlaceAudit")));
            places.Add(("/compliance", PortalText.Get("NavCompliance"), PortalText.Get("PlaceCompliance")));
        }

        if (user.IsInRole(SpeRoles.Admin))
        {
            places.Add(("/admin/accounts", PortalText.Get("NavAccounts"), PortalText.Get("PlaceAccounts")));
            places.Add(("/admin/applications", PortalText.Get("NavApplications"), PortalText.Get("PlaceApplications")));
        }

        return places;
    }
}
