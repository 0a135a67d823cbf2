using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Review;

/// <summary>One request as its reviewer sees it: the justification, the automatic report per file, and the decision form.</summary>
internal sealed class ReviewModel : AirlockReviewPageModel
{
    /// <summary>The request.</summary>
    public AirlockRequestView? Export { get; private set; }

    /// <summary>The comment as typed (kept after a refusal).</summary>
    public string? Comment { get; private set; }

    /// <summary>Field errors by field name.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>A refusal that belongs to no one field.</summary>
    public string? FormError { get; private set; }

    /// <summary>Shows the request.</summary>
    public Task<IActionResult> OnGetAsync(string project, string request) => ShowAsync(project, request);

    /// <summary>Records the decision (approve, reject, ask for changes) with its comment.</summary>
    public async Task<IActionResult> OnPostDecideAsync(string project, string request, string? decision, string? comment)
    {
        var answer = await PostAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}/reviews",
            new AirlockReviewRequest(decision ?? "", comment ?? ""));
        if (answer.Succeeded)
        {
            return Redirect($"/review/{Segment(project)}/{Segment(request)}");
        }

        if (answer.Problem!.Status is 400 or 409 or 422)
        {
            Comment = comment;
            FieldErrors = answer.Problem.ByField();
            FormError = FieldErrors.Count == 0 ? answer.Problem.Detail : null;
            Response.StatusCode = answer.Problem.Status;
            return await ShowAsync(project, request);
        }

        return ShowProblem(answer.Problem);
    }

    /// <summary>An image of the request, relayed from the API's image preview (a reviewer's; anyone else gets its refusal as a page).</summary>
    public Task<IActionResult> OnGetImageAsync(string project, string request, string file) => RelayImageAsync("exports", project, request, file);

    private async Task<IActionResult> ShowAsync(string project, string request)
    {
        var answer = await GetAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Export = answer.Value!;
        Title = PortalText.Format("ReviewTitle", Export.Id);
        await LoadPreviewsAsync("exports", $"/review/{Segment(project)}/{Segment(request)}", project, Export, "PreviewImageAlt");
        return Page();
    }
}
