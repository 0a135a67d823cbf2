using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Exports;

/// <summary>A project's export requests (the airlock, EHDSR-12, TIR-25): the list, and a form that asks to take files from /outputs out.</summary>
internal sealed class ExportsModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The requests.</summary>
    public IReadOnlyList<AirlockRequestView> Exports { get; private set; } = [];

    /// <summary>The files of /outputs to pick from, or null when they could not be listed (<see cref="OutputsProblem"/> says why).</summary>
    public OutputListView? Outputs { get; private set; }

    /// <summary>The API's sentence when /outputs could not be listed (no workspace runtime on this server, for one).</summary>
    public string? OutputsProblem { get; private set; }

    /// <summary>The files ticked (kept after a refusal).</summary>
    public IReadOnlySet<string> Picked { get; private set; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The file names as typed (kept after a refusal).</summary>
    public string? Files { get; private set; }

    /// <summary>The description as typed.</summary>
    public string? Reason { get; private set; }

    /// <summary>The output description (JSON) as typed.</summary>
    public string? Description { get; private set; }

    /// <summary>Field errors by field name (<c>files</c>, <c>reason</c>, <c>description</c>).</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>A refusal that belongs to no one field.</summary>
    public string? FormError { get; private set; }

    /// <summary>Shows the requests.</summary>
    public Task<IActionResult> OnGetAsync(string project) => ShowAsync(project);

    /// <summary>
    /// Asks for an export of the /outputs files ticked in the list or typed by name, with a justification and, optionally,
    /// their output description (the JSON of docs/disclosure.md), without which no automatic rule can judge a file and every
    /// file waits for a person.
    /// </summary>
    public async Task<IActionResult> OnPostCreateAsync(string project, string[]? picked, string? files, string? reason, string? description)
    {
        Picked = new HashSet<string>(picked ?? [], StringComparer.Ordinal);
        // Note: a name both ticked and typed is asked for once; the API checks every name again (the list is only a help).
        var names = (picked ?? []).Concat((files ?? "").Split(['\n', ','], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal).ToArray();
        JsonElement? described = null;
        if (!string.IsNullOrWhiteSpace(description))
        {
            try
            {
                using var parsed = JsonDocument.Parse(description);
                described = parsed.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return await RefusedAsync(project, files, reason, description, 400,
                    FieldErrors.For("description", PortalText.Format("ExportDescriptionNotJson", (e.LineNumber ?? 0) + 1)), null);
            }
        }

        var answer = await PostAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/exports", new ExportCreateRequest(names, reason ?? "", described));
        if (answer.Succeeded)
        {
            return Redirect($"/projects/{Segment(project)}/exports/{Segment(answer.Value!.Id)}");
        }

        if (answer.Problem!.Status is 400 or 409 or 413 or 422)
        {
            var byField = DescriptionErrorsTogether(answer.Problem.ByField());
            return await RefusedAsync(project, files, reason, description, answer.Problem.Status, byField, byField.Count == 0 ? answer.Problem.Detail : null);
        }

        return ShowProblem(answer.Problem);
    }

    /// <summary>
    /// The API names a description's errors by their path inside it (<c>outputs[0].kind</c>); the form has one description
    /// field, so every error that is not the files' or the reason's is shown there, each after its path, and the textarea
    /// names them (aria-describedby, aria-invalid).
    /// </summary>
    private static FieldErrors DescriptionErrorsTogether(FieldErrors errors)
    {
        var description = new List<string>();
        var kept = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        foreach (var field in errors.Keys)
        {
            if (field is "files" or "reason")
            {
                kept.Add(KeyValuePair.Create(field, errors.MessagesOf(field)));
            }
            else
            {
                description.AddRange(errors.MessagesOf(field).Select(m => field is "description" or "" ? m : $"{field}: {m}"));
            }
        }

        if (description.Count > 0)
        {
            kept.Add(KeyValuePair.Create("description", (IReadOnlyList<string>)description));
        }

        return new FieldErrors(kept);
    }

    private async Task<IActionResult> RefusedAsync(string project, string? files, string? reason, string? description, int status,
        FieldErrors fieldErrors, string? formError)
    {
        Files = files;
        Reason = reason;
        Description = description;
        FieldErrors = fieldErrors;
        FormError = formError;
        Response.StatusCode = status;
        return await ShowAsync(project);
    }

    private async Task<IActionResult> ShowAsync(string project)
    {
        Project = project;
        Title = PortalText.Get("ExportsLink");
        var answer = await GetAsync<List<AirlockRequestView>>($"/api/v1/projects/{Segment(project)}/exports");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Exports = answer.Value!;
        var outputs = await GetAsync<OutputListView>($"/api/v1/projects/{Segment(project)}/outputs");
        Outputs = outputs.Value;
        OutputsProblem = outputs.Problem?.Detail;
        return Page();
    }
}
