using Microsoft.AspNetCore.Mvc;
using OpenSpe.Core.Identity;

namespace OpenSpe.Server.Portal.Pages.Projects;

/// <summary>
/// A project: the permit's summary, its validity countdown, datasets and members, the terms of use (SPER-7), and the doors
/// to the desktop, the terminal, jobs and exports. A non-member gets the same 404 as for a project that does not exist, and
/// a halted project shows only that it is halted: both are the API's own answers.
/// </summary>
internal sealed class ProjectModel(TimeProvider time) : PortalPageModel
{
    /// <summary>The project, as the API shows it to the person.</summary>
    public ProjectView? Project { get; private set; }

    /// <summary>The terms of use a desktop or terminal session accepts.</summary>
    public DesktopTermsView? Terms { get; private set; }

    /// <summary>The validity countdown.</summary>
    public string Remaining { get; private set; } = "";

    /// <summary>Whether the person is named as a dataset's holder (shows the upload door; the API decides on upload).</summary>
    public bool HoldsDataset { get; private set; }

    /// <summary>Shows the project.</summary>
    public async Task<IActionResult> OnGetAsync(string project)
    {
        var answer = await GetAsync<ProjectView>($"/api/v1/projects/{Segment(project)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Project = answer.Value!;
        Title = Project.Title;
        Remaining = PortalFormat.Remaining(Project.ValidUntil, time.GetUtcNow());
        HoldsDataset = User.IsInRole(SpeRoles.DataHolder) && Project.Datasets.Any(d => d.Holder == User.Identity?.Name);
        var terms = await GetAsync<DesktopTermsView>($"/api/v1/projects/{Segment(project)}/desktop/terms");
        Terms = terms.Value;
        return Page();
    }

    /// <summary>Accepts the terms and opens the desktop with a fresh single-use ticket (in the fragment: never sent to a server or logged).</summary>
    public Task<IActionResult> OnPostDesktopAsync(string project) => OpenAsync(project, "desktop");

    /// <summary>Accepts the terms and opens the terminal with a fresh single-use ticket.</summary>
    public Task<IActionResult> OnPostTerminalAsync(string project) => OpenAsync(project, "terminal");

    /// <summary>
    /// Opens the upload page for a holder of one of the project's datasets with a fresh upload ticket in the fragment (never sent
    /// to a server or logged; the page keeps it in memory only and removes it from the address bar). The ticket is a token for
    /// this person that opens only this project's upload, not the session's own access token. When it expires mid-upload, the
    /// holder opens the page again from here and the upload resumes.
    /// </summary>
    public async Task<IActionResult> OnPostUploadAsync(string project)
    {
        if (await RequireProjectRoleAsync(project, "UploadNotHolder", SpeRoles.DataHolder) is { } refusal)
        {
            return refusal;
        }

        var ticket = await PostAsync<UploadTicketView>($"/api/v1/projects/{Segment(project)}/uploads/tickets", new { });
        if (!ticket.Succeeded)
        {
            return ShowProblem(ticket.Problem!);
        }

        return Redirect($"/upload/{Segment(project)}#token={Uri.EscapeDataString(ticket.Value!.Ticket)}");
    }

    private async Task<IActionResult> OpenAsync(string project, string kind)
    {
        var terms = await GetAsync<DesktopTermsView>($"/api/v1/projects/{Segment(project)}/{kind}/terms");
        if (!terms.Succeeded)
        {
            return ShowProblem(terms.Problem!);
        }

        // Note: the person pressed the button under the terms shown on the page: that is the acceptance the API records (SPER-7).
        var ticket = await PostAsync<DesktopTicketView>($"/api/v1/projects/{Segment(project)}/{kind}/tickets", new DesktopTicketRequest(true, terms.Value!.Version));
        if (!ticket.Succeeded)
        {
            return ShowProblem(ticket.Problem!);
        }

        return Redirect($"/{kind}/{Segment(project)}#ticket={Uri.EscapeDataString(ticket.Value!.Ticket)}");
    }
}
