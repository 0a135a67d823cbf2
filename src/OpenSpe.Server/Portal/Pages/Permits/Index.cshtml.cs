using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Permits;

/// <summary>
/// The HDAB officer's permits: the list, issuing a permit from a JSON document and amending one with a new document (each
/// field's error shown by its field, as the API names it), and suspending, resuming or revoking one with a reason
/// (EHDSR-1, OPR-5).
/// </summary>
internal sealed class PermitsModel : PortalPageModel
{
    private const long MaxDocumentBytes = 256 * 1024;

    /// <summary>The permits.</summary>
    public IReadOnlyList<PermitSummary> Permits { get; private set; } = [];

    /// <summary>Why the last change was refused.</summary>
    public string? FormError { get; private set; }

    /// <summary>The refused document's errors by field path.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>What the last change did.</summary>
    public string? Notice { get; private set; }

    /// <summary>Shows the permits (after the form issued one, saying so).</summary>
    public Task<IActionResult> OnGetAsync(string? issued)
    {
        if (!string.IsNullOrWhiteSpace(issued))
        {
            Notice = PortalText.Format("PermitIssued", issued);
        }

        return ShowAsync();
    }

    /// <summary>Issues a permit from the uploaded JSON document.</summary>
    public async Task<IActionResult> OnPostCreateAsync(IFormFile? document)
    {
        var (body, refused) = await ReadDocumentAsync(document);
        if (refused is not null)
        {
            return refused;
        }

        var answer = await PostAsync<JsonElement>("/api/v1/permits", body);
        if (answer.Succeeded)
        {
            Notice = PortalText.Format("PermitIssued", answer.Value.GetProperty("reference").GetString());
            return await ShowAsync();
        }

        return await DocumentRefusedAsync(answer.Problem!);
    }

    /// <summary>
    /// Amends a permit with the uploaded JSON document (the whole permit as it is to read): the API keeps its id and project,
    /// raises its version and keeps every earlier version in its history.
    /// </summary>
    public async Task<IActionResult> OnPostAmendAsync(string? id, IFormFile? document)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return await RefusedAsync(400, PortalText.Get("AmendPermitMissing"), new Dictionary<string, IReadOnlyList<string>>());
        }

        var (body, refused) = await ReadDocumentAsync(document);
        if (refused is not null)
        {
            return refused;
        }

        var answer = await PostAsync<JsonElement>($"/api/v1/permits/{Segment(id)}/amendments", body);
        if (answer.Succeeded)
        {
            Notice = PortalText.Format("PermitAmended", answer.Value.GetProperty("reference").GetString(), answer.Value.GetProperty("version").GetInt32());
            return await ShowAsync();
        }

        return await DocumentRefusedAsync(answer.Problem!);
    }

    /// <summary>Suspends, resumes or revokes a permit with a reason.</summary>
    public async Task<IActionResult> OnPostChangeAsync(string id, string change, string? reason)
    {
        if (change is not ("suspend" or "resume" or "revoke"))
        {
            return await RefusedAsync(400, PortalText.Get("UnknownChange"), new Dictionary<string, IReadOnlyList<string>>());
        }

        var answer = await PostAsync<JsonElement>($"/api/v1/permits/{Segment(id)}/{change}", new PermitReasonRequest(string.IsNullOrWhiteSpace(reason) ? null : reason));
        if (answer.Succeeded)
        {
            Notice = PortalText.Format("PermitChanged", answer.Value.GetProperty("reference").GetString(), answer.Value.GetProperty("state").GetString());
            return await ShowAsync();
        }

        return answer.Problem!.Status is 400 or 404 or 409 or 422
            ? await RefusedAsync(answer.Problem.Status, answer.Problem.Detail ?? PortalText.Get("ProblemUnknown"), answer.Problem.Errors)
            : ShowProblem(answer.Problem);
    }

    private async Task<(JsonElement Body, IActionResult? Refused)> ReadDocumentAsync(IFormFile? document)
    {
        try
        {
            if (document is null || document.Length == 0 || document.Length > MaxDocumentBytes)
            {
                return (default, await RefusedAsync(400, PortalText.Get("PermitFileMissing"), new Dictionary<string, IReadOnlyList<string>>()));
            }

            await using var stream = document.OpenReadStream();
            return ((await JsonDocument.ParseAsync(stream, cancellationToken: HttpContext.RequestAborted)).RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (default, await RefusedAsync(400, PortalText.Format("PermitFileNotJson", e.LineNumber + 1), new Dictionary<string, IReadOnlyList<string>>()));
        }
    }

    private async Task<IActionResult> DocumentRefusedAsync(ApiProblem problem) =>
        problem.Status is 400 or 404 or 409 or 422
            ? await RefusedAsync(problem.Status, problem.Detail ?? PortalText.Get("ProblemUnknown"), problem.Errors)
            : ShowProblem(problem);

    private async Task<IActionResult> RefusedAsync(int status, string message, IReadOnlyDictionary<string, IReadOnlyList<string>> errors)
    {
        FormError = message;
        FieldErrors = new FieldErrors(errors);
        var shown = await ShowAsync();
        Response.StatusCode = status;
        return shown;
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = PortalText.Get("NavPermits");
        var answer = await GetAsync<List<PermitSummary>>("/api/v1/permits");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Permits = answer.Value!;
        return Page();
    }
}
