using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Jobs;

/// <summary>A project's jobs (code-to-data, SPER-2): the list, and a form that runs a command in the project's sandbox.</summary>
internal sealed class JobsModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The jobs, newest first as the API lists them.</summary>
    public IReadOnlyList<JobView> Jobs { get; private set; } = [];

    /// <summary>The command as typed (kept after a refusal).</summary>
    public string? Command { get; private set; }

    /// <summary>What is wrong with the command, next to its field.</summary>
    public string? CommandError { get; private set; }

    /// <summary>Shows the jobs.</summary>
    public Task<IActionResult> OnGetAsync(string project) => ShowAsync(project);

    /// <summary>Runs a command: one argument per line.</summary>
    public async Task<IActionResult> OnPostRunAsync(string project, string? command)
    {
        var arguments = (command ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var answer = await PostAsync<JobView>($"/api/v1/projects/{Segment(project)}/jobs", new JobRunRequest(arguments));
        if (answer.Succeeded)
        {
            return Redirect($"/projects/{Segment(project)}/jobs/{Segment(answer.Value!.Id)}");
        }

        if (answer.Problem!.Status is 400 or 422)
        {
            Command = command;
            CommandError = answer.Problem.Errors.Values.SelectMany(e => e).FirstOrDefault() ?? answer.Problem.Detail;
            Response.StatusCode = answer.Problem.Status;
            return await ShowAsync(project);
        }

        return ShowProblem(answer.Problem);
    }

    private async Task<IActionResult> ShowAsync(string project)
    {
        Project = project;
        Title = PortalText.Get("JobsLink");
        var answer = await GetAsync<List<JobView>>($"/api/v1/projects/{Segment(project)}/jobs");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Jobs = answer.Value!;
        return Page();
    }
}
