using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Exports;

/// <summary>One export request: the automatic disclosure report per file, the checkers' decisions, and downloads of approved files.</summary>
internal sealed class ExportModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The request.</summary>
    public AirlockRequestView? Export { get; private set; }

    /// <summary>Shows the request.</summary>
    public async Task<IActionResult> OnGetAsync(string project, string request)
    {
        Project = project;
        var answer = await GetAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Export = answer.Value!;
        Title = PortalText.Format("ExportTitle", Export.Id);
        return Page();
    }

    /// <summary>Downloads an approved file: the API's answer streamed through (it refuses anything not approved).</summary>
    public async Task<IActionResult> OnGetDownloadAsync(string project, string request, string file)
    {
        var backchannel = HttpContext.RequestServices.GetService(typeof(PortalBackchannel)) as PortalBackchannel
            ?? throw new InvalidOperationException("The portal backchannel is not registered.");
        var response = await backchannel.DownloadAsync(HttpContext, await AccessTokenAsync(),
            $"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}/files/{Segment(file)}");
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var problem = ApiProblem.From((int)response.StatusCode, await PortalBackchannel.ReadJsonAsync(response, HttpContext.RequestAborted));
                return ShowProblem(problem);
            }
        }

        HttpContext.Response.RegisterForDispose(response);
        var stream = await response.Content.ReadAsStreamAsync(HttpContext.RequestAborted);
        return File(stream, "application/octet-stream", Path.GetFileName(file));
    }
}
