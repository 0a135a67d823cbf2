using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Components;

/// <summary>
/// The component inventory (OPR-3, OPR-4, OPR-28, OPR-29): the SPE build, the runtime, the system components and the NuGet
/// packages of the SBOM made at build, with what NuGet audit reported, as <c>/api/v1/operations/components</c> gives it to
/// operators, auditors and HDAB officers (who copy the federated runner's identity from it into permits).
/// </summary>
internal sealed class ComponentsModel : PortalPageModel
{
    /// <summary>The inventory.</summary>
    public ComponentInventoryView? Inventory { get; private set; }

    /// <summary>Shows the inventory.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavComponents");
        var answer = await GetAsync<ComponentInventoryView>("/api/v1/operations/components");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Inventory = answer.Value!;
        return Page();
    }
}
