using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Exports;

/// <summary>
/// Every export request across projects (<c>GET /api/v1/exports</c>): for HDAB officers, who oversee what leaves under
/// their permits, and output checkers; metadata and decisions only, never a file's content (EHDSR-13, TIR-25).
/// </summary>
internal sealed class RegistryModel : PortalPageModel
{
    /// <summary>The requests, newest first.</summary>
    public IReadOnlyList<AirlockRequestView> Requests { get; private set; } = [];

    /// <summary>Shows the requests.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavExportRegistry");
        var answer = await GetAsync<List<AirlockRequestView>>("/api/v1/exports");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Requests = [.. answer.Value!.OrderByDescending(r => r.CreatedAt)];
        return Page();
    }
}
