using Microsoft.AspNetCore.Mvc;
using OpenSpe.Core.Identity;

namespace OpenSpe.Server.Portal.Pages.Projects;

/// <summary>
/// A project's dataset files with their verification status (EHDSR-11), as <c>GET /api/v1/projects/{project}/files</c> gives
/// them to the person: a holder sees the files of the datasets they hold, a researcher the project's files. The API lists a
/// file only once its plaintext SHA-256 matched when its upload completed, so every row is a verified file; an upload refused
/// at verification never becomes one (the upload page showed its refusal).
/// </summary>
internal sealed class FilesModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The files, oldest upload first as the API lists them.</summary>
    public IReadOnlyList<ProjectFileView> Files { get; private set; } = [];

    /// <summary>Shows the files.</summary>
    public async Task<IActionResult> OnGetAsync(string project)
    {
        Project = project;
        Title = PortalText.Get("FilesLink");
        // Note: oversight roles (HDAB, operator, auditor) read the project's metadata but the API hides its files from them (404);
        // the page says in words that the files are for its holders and researchers.
        if (await RequireProjectRoleAsync(project, "FilesNotMember", SpeRoles.DataHolder, SpeRoles.Researcher) is { } refusal)
        {
            return refusal;
        }

        var files = await GetAsync<List<ProjectFileView>>($"/api/v1/projects/{Segment(project)}/files");
        if (!files.Succeeded)
        {
            return ShowProblem(files.Problem!);
        }

        Files = files.Value!;
        return Page();
    }
}
