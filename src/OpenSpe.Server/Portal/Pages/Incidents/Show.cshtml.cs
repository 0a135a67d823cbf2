using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Incidents;

/// <summary>One incident as the API gives it to the person: its deadlines, affected projects, notifications and history.</summary>
internal sealed class IncidentModel : PortalPageModel
{
    /// <summary>The incident.</summary>
    public IncidentView? Incident { get; private set; }

    /// <summary>Shows the incident.</summary>
    public async Task<IActionResult> OnGetAsync(string id)
    {
        var answer = await GetAsync<IncidentView>($"/api/v1/incidents/{Segment(id)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Incident = answer.Value!;
        Title = Incident.Title;
        return Page();
    }
}
