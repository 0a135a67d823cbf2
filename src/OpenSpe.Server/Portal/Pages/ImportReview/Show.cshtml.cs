using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.ImportReview;

/// <summary>
/// One import request as its reviewer sees it: the justification, each file's size, SHA-256 and type check, a preview of each
/// file (text or image, as on the export review page, from the API's import previews), the decisions so far, and the decision
/// form, which is offered only where the API would take the decision.
/// </summary>
internal sealed class ImportReviewModel : AirlockReviewPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The request.</summary>
    public AirlockRequestView? Import { get; private set; }

    /// <summary>True when the person is named in the project's permit, so the page asks the API for no preview.</summary>
    public bool PreviewsWithheld { get; private set; }

    /// <summary>Why the form is not offered (the text's name), or null when it is.</summary>
    public string? NotOffered { get; private set; }

    /// <summary>The comment as typed (kept after a refusal).</summary>
    public string? Comment { get; private set; }

    /// <summary>Field errors by field name.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>A refusal that belongs to no one field.</summary>
    public string? FormError { get; private set; }

    /// <summary>
    /// True when <paramref name="me"/> may decide on <paramref name="request"/>: it is pending, its project names them in no role
    /// (<paramref name="ownProjects"/>), they did not ask for it and gave no decision on it yet.
    /// </summary>
    public static bool Offered(AirlockRequestView request, IReadOnlySet<string> ownProjects, string? me) => WhyNotOffered(request, ownProjects, me) is null;

    /// <summary>Shows the request.</summary>
    public Task<IActionResult> OnGetAsync(string project, string request) => ShowAsync(project, request);

    /// <summary>An image of the request, relayed from the API's image preview (a reviewer's; anyone else gets its refusal as a page).</summary>
    public Task<IActionResult> OnGetImageAsync(string project, string request, string file) => RelayImageAsync("imports", project, request, file);

    /// <summary>Records the decision (approve, reject, ask for changes) with its comment, on every pending file.</summary>
    public async Task<IActionResult> OnPostDecideAsync(string project, string request, string? decision, string? comment)
    {
        var answer = await PostAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/imports/{Segment(request)}/reviews",
            new AirlockReviewRequest(decision ?? "", comment ?? ""));
        if (answer.Succeeded)
        {
            return Redirect($"/review/imports/{Segment(project)}/{Segment(request)}");
        }

        if (answer.Problem!.Status is 400 or 409 or 422)
        {
            Comment = comment;
            FieldErrors = answer.Problem.ByField();
            FormError = FieldErrors.Count == 0 ? answer.Problem.Detail : null;
            var shown = await ShowAsync(project, request);
            Response.StatusCode = Problem?.Status ?? answer.Problem.Status;
            return shown;
        }

        return ShowProblem(answer.Problem);
    }

    private static string? WhyNotOffered(AirlockRequestView request, IReadOnlySet<string> ownProjects, string? me)
    {
        // Note: the API's own refusals (ReviewRules, the access chain's independence step), checked here only so the form is
        // never offered where the API would refuse it; the API still decides.
        if (ownProjects.Contains(request.ProjectId))
        {
            return "ImportNotOfferedMember";
        }

        if (string.Equals(request.RequestedBy, me, StringComparison.Ordinal))
        {
            return "ImportNotOfferedOwn";
        }

        if (request.State != AirlockStates.Pending)
        {
            return "ImportNotOfferedDecided";
        }

        return request.Reviews.Any(r => string.Equals(r.Reviewer, me, StringComparison.Ordinal)) ? "ImportNotOfferedAlready" : null;
    }

    private async Task<IActionResult> ShowAsync(string project, string request)
    {
        Project = project;
        Title = PortalText.Get("NavImportReview");
        var answer = await GetAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/imports/{Segment(request)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        var mine = await GetAsync<List<ProjectSummary>>("/api/v1/projects");
        if (!mine.Succeeded)
        {
            return ShowProblem(mine.Problem!);
        }

        Import = answer.Value!;
        Title = PortalText.Format("ImportReviewTitle", Import.Id);
        var own = mine.Value!.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        NotOffered = WhyNotOffered(Import, own, User.Identity?.Name);
        // Note: the API refuses a member every preview (they are for independent checkers only, EHDSR-13); the page does not
        // ask for them, so a member reading the request leaves no refusal per file in the audit log. The API still decides
        // for everyone else, and the Image handler asks it whoever calls.
        PreviewsWithheld = own.Contains(Import.ProjectId);
        if (!PreviewsWithheld)
        {
            await LoadPreviewsAsync("imports", $"/review/imports/{Segment(project)}/{Segment(request)}", project, Import, "PreviewImageAltImport");
        }

        return Page();
    }
}
