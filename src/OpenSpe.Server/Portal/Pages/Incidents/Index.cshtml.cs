using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Incidents;

/// <summary>
/// Incidents with their HDAB deadlines (OPR-18, OPR-19): early warning 24 hours, notification 72 hours and final report one
/// month after detection, each pending, sent, sent late or overdue. What <c>/api/v1/incidents</c> gives the person: operators
/// and auditors all, HDAB officers those affecting their permits. Operators also open one here (as <c>spe incident open</c>)
/// for trouble no alert saw.
/// </summary>
internal sealed class IncidentsModel : PortalPageModel
{
    /// <summary>The incidents.</summary>
    public IReadOnlyList<IncidentView> Incidents { get; private set; } = [];

    /// <summary>Why the last opening was refused, as the API said it.</summary>
    public string? FormError { get; private set; }

    /// <summary>The refused opening's field errors, by field name in lower case.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>What the person typed into the refused form, to show it again.</summary>
    public IReadOnlyDictionary<string, string?> Values { get; private set; } = new Dictionary<string, string?>();

    /// <summary>Shows the incidents.</summary>
    public Task<IActionResult> OnGetAsync() => ShowAsync();

    /// <summary>
    /// Opens an incident: title, description, severity, the detection time (empty for now; otherwise with its offset, since
    /// the HDAB clock starts there) and the affected projects (ids separated by spaces or commas). Shows the new incident.
    /// </summary>
    public async Task<IActionResult> OnPostOpenAsync(string? title, string? description, string? severity, string? detectedAt, string? projects)
    {
        (string, string?)[] typed = [("title", title), ("description", description), ("severity", severity), ("detectedat", detectedAt), ("projectids", projects)];
        DateTimeOffset? detected = null;
        if (!string.IsNullOrWhiteSpace(detectedAt))
        {
            if (!PortalFormat.TryParseInstant(detectedAt, out var parsed))
            {
                return await RefusedAsync(ApiProblem.ForField("detectedAt", PortalText.Get("IncidentSentAtFormat"), PortalText.Get("IncidentFormRefused")), typed);
            }

            detected = parsed;
        }

        var projectIds = (projects ?? "").Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var answer = await PostAsync<IncidentView>("/api/v1/incidents",
            new IncidentOpenRequest(title?.Trim() ?? "", description ?? "", severity ?? "", detected, projectIds.Length == 0 ? null : projectIds));
        return answer.Succeeded ? Redirect($"/incidents/{Segment(answer.Value!.Id)}") : await RefusedAsync(answer.Problem!, typed);
    }

    /// <summary>What was typed into <paramref name="field"/> before the opening was refused.</summary>
    public string? ValueOf(string field) => Values.TryGetValue(field, out var value) ? value : null;

    private async Task<IActionResult> RefusedAsync(ApiProblem problem, (string Field, string? Value)[] typed)
    {
        // Note: a refusal of the form is shown at the form; anything else (403 for a non-operator, a signed-out session)
        // replaces the page, as the API's answer to this person.
        if (problem.Status is not (400 or 404 or 409 or 422))
        {
            return ShowProblem(problem);
        }

        var shown = await ShowAsync();
        if (Problem is null)
        {
            FormError = problem.Detail ?? problem.Sentence();
            FieldErrors = problem.ByField();
            Values = typed.ToDictionary(t => t.Field, t => t.Value, StringComparer.Ordinal);
            Response.StatusCode = problem.Status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = PortalText.Get("NavIncidents");
        var answer = await GetAsync<List<IncidentView>>("/api/v1/incidents");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Incidents = answer.Value!;
        return Page();
    }
}
