using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.ImportReview;

/// <summary>
/// The output checker's queue of import requests (SPER-3), from <c>GET /api/v1/imports</c>: requests still waiting for
/// decisions, never those of projects the checker belongs to, made, or already decided (the API refuses such a review; the
/// queue does not offer it). A page of its own beside <c>/review</c>, because the two lists come from two API routes and
/// an import's decision places a file in a workspace rather than releasing one.
/// </summary>
internal sealed class ImportReviewQueueModel : PortalPageModel
{
    /// <summary>The requests to review, oldest first.</summary>
    public IReadOnlyList<AirlockRequestView> Queue { get; private set; } = [];

    /// <summary>Shows the queue.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavImportReview");
        var all = await GetAsync<List<AirlockRequestView>>("/api/v1/imports");
        if (!all.Succeeded)
        {
            return ShowProblem(all.Problem!);
        }

        var mine = await GetAsync<List<ProjectSummary>>("/api/v1/projects");
        if (!mine.Succeeded)
        {
            return ShowProblem(mine.Problem!);
        }

        var own = mine.Value!.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        Queue = all.Value!.Where(r => ImportReviewModel.Offered(r, own, User.Identity?.Name)).OrderBy(r => r.CreatedAt).ToList();
        return Page();
    }
}
