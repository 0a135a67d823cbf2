using Microsoft.AspNetCore.Mvc;
using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.Portal.Pages.Review;

/// <summary>One request as its reviewer sees it: the justification, the automatic report per file, and the decision form.</summary>
internal sealed class ReviewModel : PortalPageModel
{
    /// <summary>The request.</summary>
    public AirlockRequestView? Export { get; private set; }

    /// <summary>Each file's preview (or why it has none), by name.</summary>
    public IReadOnlyDictionary<string, FilePreview> Previews { get; private set; } = new Dictionary<string, FilePreview>();

    /// <summary>The comment as typed (kept after a refusal).</summary>
    public string? Comment { get; private set; }

    /// <summary>Field errors by field name.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>A refusal that belongs to no one field.</summary>
    public string? FormError { get; private set; }

    /// <summary>Shows the request.</summary>
    public Task<IActionResult> OnGetAsync(string project, string request) => ShowAsync(project, request);

    /// <summary>Records the decision (approve, reject, ask for changes) with its comment.</summary>
    public async Task<IActionResult> OnPostDecideAsync(string project, string request, string? decision, string? comment)
    {
        var answer = await PostAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}/reviews",
            new AirlockReviewRequest(decision ?? "", comment ?? ""));
        if (answer.Succeeded)
        {
            return Redirect($"/review/{Segment(project)}/{Segment(request)}");
        }

        if (answer.Problem!.Status is 400 or 409 or 422)
        {
            Comment = comment;
            FieldErrors = answer.Problem.ByField();
            FormError = FieldErrors.Count == 0 ? answer.Problem.Detail : null;
            Response.StatusCode = answer.Problem.Status;
            return await ShowAsync(project, request);
        }

        return ShowProblem(answer.Problem);
    }

    /// <summary>
    /// An image of the request, as the API's image preview gives it to this person (a reviewer; the requester and everyone
    /// else get the API's refusal as a page): the bytes relayed with the API's type and the image's own strict headers.
    /// </summary>
    public async Task<IActionResult> OnGetImageAsync(string project, string request, string file)
    {
        var backchannel = HttpContext.RequestServices.GetService(typeof(PortalBackchannel)) as PortalBackchannel
            ?? throw new InvalidOperationException("The portal backchannel is not registered.");
        var response = await backchannel.DownloadAsync(HttpContext, await AccessTokenAsync(),
            $"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}/files/{Segment(file ?? "")}/image");
        var type = response.Content.Headers.ContentType?.MediaType;
        // Note: only the four image types go on, whatever else answered: the portal's own origin must never serve a document
        // from an export request.
        if (!response.IsSuccessStatusCode || type is null || !PreviewImages.ContentTypes.Contains(type))
        {
            using (response)
            {
                return ShowProblem(ApiProblem.From(response.IsSuccessStatusCode ? StatusCodes.Status502BadGateway : (int)response.StatusCode,
                    await PortalBackchannel.ReadJsonAsync(response, HttpContext.RequestAborted)));
            }
        }

        HttpContext.Response.RegisterForDispose(response);
        var headers = Response.Headers;
        headers.ContentSecurityPolicy = PreviewImages.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        headers.ContentDisposition = response.Content.Headers.ContentDisposition?.ToString() ?? "inline";
        return File(await response.Content.ReadAsStreamAsync(HttpContext.RequestAborted), type);
    }

    private async Task<IActionResult> ShowAsync(string project, string request)
    {
        var answer = await GetAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Export = answer.Value!;
        Title = PortalText.Format("ReviewTitle", Export.Id);
        var previews = new Dictionary<string, FilePreview>(StringComparer.Ordinal);
        foreach (var file in Export.Files)
        {
            if (PreviewImages.ClaimedBy(file.Name) is not null)
            {
                // Note: the API refuses a larger image too; its size is known here, so the page says why instead of a broken image.
                previews[file.Name] = file.Size > PreviewImages.MaxBytes
                    ? FilePreview.None(PortalText.Format("PreviewImageTooLarge", file.Name, PreviewImages.MaxBytes / (1024 * 1024)))
                    : FilePreview.Image($"/review/{Segment(project)}/{Segment(request)}?handler=Image&file={Segment(file.Name)}");
                continue;
            }

            var preview = await GetAsync<string>($"/api/v1/projects/{Segment(project)}/exports/{Segment(request)}/files/{Segment(file.Name)}/preview");
            previews[file.Name] = preview.Succeeded ? FilePreview.Of(file.Name, preview.Value ?? "") : FilePreview.None(preview.Problem!.Detail);
        }

        Previews = previews;
        return Page();
    }
}
