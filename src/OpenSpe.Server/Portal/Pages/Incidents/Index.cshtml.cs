using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Incidents;

/// <summary>
/// Incidents with their HDAB deadlines (OPR-18, OPR-19): early warning 24 hours, notification 72 hours and final report one
/// month after detection, each pending, sent, sent late or overdue. What <c>/api/v1/incidents</c> gives the person: operators
/// and auditors all, HDAB officers those affecting their permits.
/// </summary>
internal sealed class IncidentsModel : PortalPageModel
{
    /// <summary>The incidents.</summary>
    public IReadOnlyList<IncidentView> Incidents { get; private set; } = [];

    /// <summary>Shows the incidents.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavIncidents");
        var answer = await GetAsync<List<IncidentView>>("/api/v1/incidents");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Incidents = answer.Value!;
        return Page();
    }
}
