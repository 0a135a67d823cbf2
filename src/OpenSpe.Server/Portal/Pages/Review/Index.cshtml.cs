using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Review;

/// <summary>
/// The output checker's review queue: export requests still waiting for decisions, never those of projects the checker
/// belongs to or made themselves (the API refuses such a review too; the queue does not offer it).
/// </summary>
internal sealed class ReviewQueueModel : PortalPageModel
{
    /// <summary>The requests to review, oldest first.</summary>
    public IReadOnlyList<AirlockRequestView> Queue { get; private set; } = [];

    /// <summary>Shows the queue.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavReview");
        var all = await GetAsync<List<AirlockRequestView>>("/api/v1/exports");
        if (!all.Succeeded)
        {
            return ShowProblem(all.Problem!);
        }

        // Note: the projects that name the checker in any role: their requests are not theirs to review (four eyes, independence).
        var mine = await GetAsync<List<ProjectSummary>>("/api/v1/projects");
        var own = (mine.Value ?? []).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var me = User.Identity?.Name;
        Queue = all.Value!
            .Where(e => e.State is AirlockStates.Pending && !own.Contains(e.ProjectId) && !string.Equals(e.RequestedBy, me, StringComparison.Ordinal)
                && !e.Reviews.Any(r => string.Equals(r.Reviewer, me, StringComparison.Ordinal)))
            .OrderBy(e => e.CreatedAt)
            .ToList();
        return Page();
    }
}
