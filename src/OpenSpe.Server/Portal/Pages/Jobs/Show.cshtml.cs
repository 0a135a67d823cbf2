using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Jobs;

/// <summary>One job: its state and its output so far; while it runs, the page refreshes itself (the portal's script) to follow it.</summary>
internal sealed class JobModel : PortalPageModel
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The job.</summary>
    public JobView? Job { get; private set; }

    /// <summary>True once the job has ended.</summary>
    public bool Final => Job is not null && JobStates.IsFinal(Job.State);

    /// <summary>The output so far (stdout and stderr, in order).</summary>
    public string Log { get; private set; } = "";

    /// <summary>Shows the job.</summary>
    public async Task<IActionResult> OnGetAsync(string project, string job)
    {
        Project = project;
        var answer = await GetAsync<JobView>($"/api/v1/projects/{Segment(project)}/jobs/{Segment(job)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Job = answer.Value!;
        Title = PortalText.Format("JobTitle", Job.Id);
        var logs = await GetAsync<string>($"/api/v1/projects/{Segment(project)}/jobs/{Segment(job)}/logs");
        var text = new StringBuilder();
        foreach (var line in (logs.Value ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = JsonSerializer.Deserialize<JobLogEntry>(line, Json);
            if (entry?.Text is not null)
            {
                text.Append(entry.Text);
            }
        }

        Log = text.ToString();
        return Page();
    }
}
