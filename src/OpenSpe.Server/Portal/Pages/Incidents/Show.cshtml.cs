using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Incidents;

/// <summary>
/// One incident as the API gives it to the person: its deadlines, affected projects, notifications and history. Operators
/// also record on it here, as <c>spe incident</c> does (OPR-18, OPR-19, OPR-20): an update (note, severity, state), a
/// notification sent to the HDAB, the one-step halt of the affected projects, and the closing. Each form posts to the API
/// with the person's token, so the API's rules (operator only, closed incidents refuse, final report before closing) hold.
/// </summary>
internal sealed class IncidentModel : PortalPageModel
{
    /// <summary>The incident.</summary>
    public IncidentView? Incident { get; private set; }

    /// <summary>The form whose submission was refused (<c>update</c>, <c>notify</c>, <c>halt</c>, <c>close</c>), if any.</summary>
    public string? RefusedForm { get; private set; }

    /// <summary>Why the submission was refused, as the API said it.</summary>
    public string? FormError { get; private set; }

    /// <summary>The refused form's field errors, by field name in lower case.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>What the person typed into the refused form, to show it again.</summary>
    public IReadOnlyDictionary<string, string?> Values { get; private set; } = new Dictionary<string, string?>();

    /// <summary>The halts the last one-step halt started, to confirm it.</summary>
    public IReadOnlyList<string> StartedHalts { get; private set; } = [];

    /// <summary>Shows the incident.</summary>
    public Task<IActionResult> OnGetAsync(string id) => ShowAsync(id);

    /// <summary>Adds an update: a note, and optionally a new severity or state (an empty choice keeps it).</summary>
    public async Task<IActionResult> OnPostUpdateAsync(string id, string? note, string? severity, string? state)
    {
        var answer = await PostAsync<IncidentView>($"/api/v1/incidents/{Segment(id)}/updates",
            new IncidentUpdateRequest(note ?? "", Choice(severity), Choice(state)));
        return answer.Succeeded ? Done(id) : await RefusedAsync(id, "update", answer.Problem!, ("note", note), ("severity", severity), ("state", state));
    }

    /// <summary>Records a notification sent to the HDAB; the time it was sent defaults to now and must carry its offset.</summary>
    public async Task<IActionResult> OnPostNotifyAsync(string id, string? stage, string? recipient, string? content, string? sentAt)
    {
        (string, string?)[] typed = [("stage", stage), ("recipient", recipient), ("content", content), ("sentat", sentAt)];
        DateTimeOffset? sent = null;
        if (!string.IsNullOrWhiteSpace(sentAt))
        {
            if (!PortalFormat.TryParseInstant(sentAt, out var parsed))
            {
                return await RefusedAsync(id, "notify", ApiProblem.ForField("sentAt", PortalText.Get("IncidentSentAtFormat"), PortalText.Get("IncidentFormRefused")), typed);
            }

            sent = parsed;
        }

        var answer = await PostAsync<IncidentView>($"/api/v1/incidents/{Segment(id)}/notifications",
            new IncidentNotifyRequest(stage ?? "", recipient?.Trim() ?? "", content ?? "", sent));
        return answer.Succeeded ? Done(id) : await RefusedAsync(id, "notify", answer.Problem!, typed);
    }

    /// <summary>Halts every project the incident affects, in one step (OPR-20).</summary>
    public async Task<IActionResult> OnPostHaltAsync(string id, string? reason)
    {
        var answer = await PostAsync<IncidentHaltView>($"/api/v1/incidents/{Segment(id)}/halt", new IncidentHaltRequest(reason ?? ""));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(id, "halt", answer.Problem!, ("reason", reason));
        }

        var shown = await ShowAsync(id);
        StartedHalts = answer.Value!.Halts;
        return shown;
    }

    /// <summary>Closes the incident with a summary; the API refuses until the final report to the HDAB is recorded.</summary>
    public async Task<IActionResult> OnPostCloseAsync(string id, string? summary)
    {
        var answer = await PostAsync<IncidentView>($"/api/v1/incidents/{Segment(id)}/close", new IncidentCloseRequest(summary ?? ""));
        return answer.Succeeded ? Done(id) : await RefusedAsync(id, "close", answer.Problem!, ("summary", summary));
    }

    /// <summary>The field errors of <paramref name="form"/>: none unless that form was the one refused.</summary>
    public FieldErrors ErrorsOf(string form) => RefusedForm == form ? FieldErrors : FieldErrors.None;

    /// <summary>What was typed into <paramref name="field"/> of <paramref name="form"/> before it was refused.</summary>
    public string? ValueOf(string form, string field) => RefusedForm == form && Values.TryGetValue(field, out var value) ? value : null;

    private RedirectResult Done(string id) => Redirect($"/incidents/{Segment(id)}");

    private async Task<IActionResult> RefusedAsync(string id, string form, ApiProblem problem, params (string Field, string? Value)[] typed)
    {
        // Note: a refusal of the form (a short note, a closed incident, no final report yet, a missing incident) is shown
        // at the form; anything else (403 for a non-operator, a signed-out session) replaces the page, as the API's answer.
        if (problem.Status is not (400 or 404 or 409 or 422))
        {
            return ShowProblem(problem);
        }

        var shown = await ShowAsync(id);
        if (Problem is null)
        {
            RefusedForm = form;
            FormError = problem.Detail ?? problem.Sentence();
            FieldErrors = problem.ByField();
            Values = typed.ToDictionary(t => t.Field, t => t.Value, StringComparer.Ordinal);
            Response.StatusCode = problem.Status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync(string id)
    {
        var answer = await GetAsync<IncidentView>($"/api/v1/incidents/{Segment(id)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Incident = answer.Value!;
        Title = Incident.Title;
        return Page();
    }

    private static string? Choice(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
