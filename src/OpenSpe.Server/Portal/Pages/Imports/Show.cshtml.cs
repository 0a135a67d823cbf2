using Microsoft.AspNetCore.Mvc;
using OpenSpe.Core.Identity;

namespace OpenSpe.Server.Portal.Pages.Imports;

/// <summary>One import request: its state, justification, files with their hashes and type check, the checkers' decisions, and where an approved file lands.</summary>
internal sealed class ImportModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The request.</summary>
    public AirlockRequestView? Import { get; private set; }

    /// <summary>Shows the request.</summary>
    public async Task<IActionResult> OnGetAsync(string project, string request)
    {
        Project = project;
        Title = PortalText.Get("ImportsLink");
        if (await RequireProjectRoleAsync(project, "ImportsNotMember", SpeRoles.Researcher, SpeRoles.DataHolder) is { } refusal)
        {
            return refusal;
        }

        var answer = await GetAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/imports/{Segment(request)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Import = answer.Value!;
        Title = PortalText.Format("ImportTitle", Import.Id);
        return Page();
    }

    /// <summary>Where an approved file of <paramref name="request"/> is placed in the project's workspaces (<c>ImportEndpoints</c>, <c>AirlockReviews</c>).</summary>
    public static string PlacedAt(AirlockRequestView request, AirlockFileView file) => $"/project/imports/{request.Id}/{file.Name}";
}
