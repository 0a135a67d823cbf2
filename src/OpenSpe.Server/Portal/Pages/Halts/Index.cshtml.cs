using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Halts;

/// <summary>Halts (OPR-20): those in force, halting a project or the whole SPE with a reason, and resuming (by another person, as the API requires).</summary>
internal sealed class HaltsModel : PortalPageModel
{
    /// <summary>The halts in force.</summary>
    public IReadOnlyList<HaltView> Halts { get; private set; } = [];

    /// <summary>Why the last change was refused.</summary>
    public string? FormError { get; private set; }

    /// <summary>Shows the halts.</summary>
    public Task<IActionResult> OnGetAsync() => ShowAsync();

    /// <summary>Halts a project (or, with no project, the whole SPE).</summary>
    public Task<IActionResult> OnPostHaltAsync(string? project, string? reason) =>
        ChangeAsync("/api/v1/halts", new HaltRequest(string.IsNullOrWhiteSpace(project) ? null : project.Trim(), reason ?? ""));

    /// <summary>Resumes a project (or the whole SPE).</summary>
    public Task<IActionResult> OnPostResumeAsync(string? project) =>
        ChangeAsync("/api/v1/halts/resume", new ResumeRequest(string.IsNullOrWhiteSpace(project) ? null : project));

    private async Task<IActionResult> ChangeAsync(string path, object body)
    {
        var answer = await PostAsync<JsonElement>(path, body);
        if (answer.Succeeded)
        {
            return Redirect("/halts");
        }

        if (answer.Problem!.Status is 400 or 404 or 409 or 422)
        {
            FormError = answer.Problem.Sentence();
            var shown = await ShowAsync();
            Response.StatusCode = answer.Problem.Status;
            return shown;
        }

        return ShowProblem(answer.Problem);
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = PortalText.Get("NavHalts");
        var answer = await GetAsync<List<HaltView>>("/api/v1/halts");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Halts = answer.Value!;
        return Page();
    }
}
