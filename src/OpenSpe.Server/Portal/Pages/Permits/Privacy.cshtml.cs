using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Permits;

/// <summary>
/// The HDAB's privacy budgets (<c>GET /api/v1/permits/privacy</c>, FCR-9, EHDSR-13): every permit's budget and what this SPE's
/// ledgers hold against it. Other roles get the API's refusal.
/// </summary>
internal sealed class PrivacyModel : PortalPageModel
{
    /// <summary>One row per permit.</summary>
    public IReadOnlyList<PermitPrivacyRow> Permits { get; private set; } = [];

    /// <summary>Shows the budgets.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavPrivacy");
        var answer = await GetAsync<List<JsonElement>>("/api/v1/permits/privacy");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Permits = [.. answer.Value!.Select(PermitPrivacyRow.Of)];
        return Page();
    }
}

/// <summary>A permit's line: its reference and title, its budget, and the two spends (ε at the permit's δ, and ρ).</summary>
internal sealed record PermitPrivacyRow(string Reference, string Title, string State, double Epsilon, double Delta, double BudgetRho,
    double NodeEpsilon, double NodeRho, double CoordinatedEpsilon, double CoordinatedRho)
{
    /// <summary>What is left of the budget in ρ: the larger spend of the two books is what the permit's people have used here.</summary>
    public double LeftRho => Math.Max(0, BudgetRho - Math.Max(NodeRho, CoordinatedRho));

    /// <summary>Reads a row of <c>GET /api/v1/permits/privacy</c>.</summary>
    public static PermitPrivacyRow Of(JsonElement row)
    {
        var privacy = row.GetProperty("privacy");
        var budget = privacy.GetProperty("budget");
        var node = privacy.GetProperty("thisNode");
        var coordinated = privacy.GetProperty("coordinated");
        return new(privacy.GetProperty("permit").GetString()!, row.GetProperty("title").GetString()!, row.GetProperty("state").GetString()!,
            budget.GetProperty("epsilon").GetDouble(), budget.GetProperty("delta").GetDouble(), budget.GetProperty("rho").GetDouble(),
            node.GetProperty("epsilon").GetDouble(), node.GetProperty("rho").GetDouble(), coordinated.GetProperty("epsilon").GetDouble(), coordinated.GetProperty("rho").GetDouble());
    }
}
