using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Projects;

/// <summary>"My projects": the API's project list for the person (only projects whose current permit names them).</summary>
internal sealed class ProjectsModel : PortalPageModel
{
    /// <summary>The projects.</summary>
    public IReadOnlyList<ProjectSummary> Projects { get; private set; } = [];

    /// <summary>Shows the list.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavProjects");
        var answer = await GetAsync<List<ProjectSummary>>("/api/v1/projects");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Projects = answer.Value!;
        return Page();
    }
}
