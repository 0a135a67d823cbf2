using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Alerts;

/// <summary>
/// Fired alerts (EHDSR-9, OPR-18): operators acknowledge one with a note or open an incident from it; auditors read. The page
/// asks <c>/api/v1/alerts</c> with the person's token, so the API's rule (operator or auditor; changes operator only) holds.
/// </summary>
internal sealed class AlertsModel : PortalPageModel
{
    /// <summary>The alerts, newest first.</summary>
    public IReadOnlyList<AlertView> Alerts { get; private set; } = [];

    /// <summary>The state filter shown (<c>open</c>, <c>acknowledged</c>, or null for all).</summary>
    public string? State { get; private set; }

    /// <summary>Why the last change was refused.</summary>
    public string? FormError { get; private set; }

    /// <summary>The cursor of the next (older) page, when there is one.</summary>
    public string? NextBefore { get; private set; }

    /// <summary>Shows a page of alerts, optionally only those in <paramref name="state"/>, older than the alert <paramref name="before"/>.</summary>
    public Task<IActionResult> OnGetAsync(string? state, string? before) => ShowAsync(state, before);

    /// <summary>Acknowledges an alert with a note.</summary>
    public async Task<IActionResult> OnPostAcknowledgeAsync(string? id, string? note)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return await RefusedAsync(PortalText.Get("AlertMissing"), 400);
        }

        var answer = await PostAsync<AlertView>($"/api/v1/alerts/{Segment(id)}/acknowledge", new AlertAcknowledgeRequest(note ?? ""));
        return answer.Succeeded ? Redirect("/alerts") : await RefusedAsync(answer.Problem!);
    }

    /// <summary>Opens an incident from an alert, then shows the incident.</summary>
    public async Task<IActionResult> OnPostIncidentAsync(string? id, string? severity, string? title)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return await RefusedAsync(PortalText.Get("AlertMissing"), 400);
        }

        var answer = await PostAsync<AlertView>($"/api/v1/alerts/{Segment(id)}/incident",
            new AlertIncidentRequest(severity ?? "", string.IsNullOrWhiteSpace(title) ? null : title.Trim()));
        if (answer.Succeeded)
        {
            return answer.Value?.IncidentId is { } incident ? Redirect($"/incidents/{Segment(incident)}") : Redirect("/alerts");
        }

        return await RefusedAsync(answer.Problem!);
    }

    private async Task<IActionResult> RefusedAsync(ApiProblem problem)
    {
        // Note: a refusal of the form (bad note, already acknowledged, gone) is shown above the list; anything else (403, a
        // signed-out session) replaces the page, as the API's answer to this person.
        return problem.Status is 400 or 404 or 409 or 422 ? await RefusedAsync(problem.Sentence(), problem.Status) : ShowProblem(problem);
    }

    private async Task<IActionResult> RefusedAsync(string sentence, int status)
    {
        var shown = await ShowAsync(null, null);
        if (Problem is null)
        {
            FormError = sentence;
            Response.StatusCode = status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync(string? state, string? before)
    {
        Title = PortalText.Get("NavAlerts");
        State = state is "open" or "acknowledged" ? state : null;
        // Note: the API pages in its database; a malformed or unknown cursor is its 400, shown as such.
        var query = $"?limit={PageSize}" + (State is null ? "" : "&state=" + State) + (string.IsNullOrEmpty(before) ? "" : "&before=" + Segment(before));
        var answer = await GetAsync<AlertPage>("/api/v1/alerts" + query);
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Alerts = answer.Value!.Items;
        NextBefore = answer.Value.NextBefore;
        return Page();
    }

    private const int PageSize = 50;
}
