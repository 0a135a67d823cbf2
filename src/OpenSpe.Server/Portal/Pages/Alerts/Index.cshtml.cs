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

    /// <summary>Shows the alerts, optionally only those in <paramref name="state"/>.</summary>
    public Task<IActionResult> OnGetAsync(string? state) => ShowAsync(state);

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
        var shown = await ShowAsync(null);
        if (Problem is null)
        {
            FormError = sentence;
            Response.StatusCode = status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync(string? state)
    {
        Title = PortalText.Get("NavAlerts");
        State = state is "open" or "acknowledged" ? state : null;
        var answer = await GetAsync<List<AlertView>>("/api/v1/alerts" + (State is null ? "" : "?state=" + State));
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Alerts = answer.Value!;
        return Page();
    }
}
