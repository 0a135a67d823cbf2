using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.Portal;

/// <summary>
/// What the export and import review pages share: each file's preview, asked of the API's preview routes as the signed-in
/// person (so only an independent checker the access chain admits sees one), and the handler that relays an image preview with
/// the image's own strict headers. The pages render <see cref="Previews"/> with the <c>_Previews</c> partial.
/// </summary>
internal abstract class AirlockReviewPageModel : PortalPageModel
{
    /// <summary>Each file's preview (or why it has none), for the <c>_Previews</c> partial.</summary>
    public FilePreviews Previews { get; private set; } = FilePreviews.Empty;

    /// <summary>
    /// Asks the API for a preview of each file of <paramref name="request"/>: a text preview, or for an image the address of this
    /// page's <c>Image</c> handler at <paramref name="page"/> (the page's own path).
    /// </summary>
    /// <param name="routes">The API's segment for the request's direction: <c>exports</c> or <c>imports</c>.</param>
    /// <param name="page">This page's path, for the image handler's address.</param>
    /// <param name="project">The project id.</param>
    /// <param name="request">The request as the API showed it.</param>
    /// <param name="imageAltText">The name of the text that describes an image (it names the file).</param>
    protected async Task LoadPreviewsAsync(string routes, string page, string project, AirlockRequestView request, string imageAltText)
    {
        ArgumentNullException.ThrowIfNull(request);
        var previews = new Dictionary<string, FilePreview>(StringComparer.Ordinal);
        foreach (var file in request.Files)
        {
            if (PreviewImages.ClaimedBy(file.Name) is not null)
            {
                // Note: the API refuses a larger image too; its size is known here, so the page says why instead of a broken image.
                previews[file.Name] = file.Size > PreviewImages.MaxBytes
                    ? FilePreview.None(PortalText.Format("PreviewImageTooLarge", file.Name, PreviewImages.MaxBytes / (1024 * 1024)))
                    : FilePreview.Image($"{page}?handler=Image&file={Segment(file.Name)}");
                continue;
            }

            var preview = await GetAsync<string>($"/api/v1/projects/{Segment(project)}/{routes}/{Segment(request.Id)}/files/{Segment(file.Name)}/preview");
            previews[file.Name] = preview.Succeeded ? FilePreview.Of(file.Name, preview.Value ?? "") : FilePreview.None(preview.Problem!.Detail);
        }

        Previews = new FilePreviews(request.Files, previews, imageAltText);
    }

    /// <summary>
    /// An image of the request, as the API's image preview gives it to this person (a reviewer; the requester and everyone
    /// else get the API's refusal as a page): the bytes relayed with the API's type and the image's own strict headers.
    /// </summary>
    /// <param name="routes">The API's segment for the request's direction: <c>exports</c> or <c>imports</c>.</param>
    /// <param name="project">The project id.</param>
    /// <param name="request">The request id.</param>
    /// <param name="file">The file's name.</param>
    protected async Task<IActionResult> RelayImageAsync(string routes, string project, string request, string? file)
    {
        var backchannel = HttpContext.RequestServices.GetRequiredService<PortalBackchannel>();
        var response = await backchannel.DownloadAsync(HttpContext, await AccessTokenAsync(),
            $"/api/v1/projects/{Segment(project)}/{routes}/{Segment(request)}/files/{Segment(file ?? "")}/image");
        var type = response.Content.Headers.ContentType?.MediaType;
        // Note: only the four image types go on, whatever else answered: the portal's own origin must never serve a document
        // from an airlock request.
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
}

/// <summary>A review page's previews: the request's files in order, each one's preview by name, and how an image is described.</summary>
/// <param name="Files">The request's files, in the order the page lists them.</param>
/// <param name="ByName">Each file's preview, or why it has none.</param>
/// <param name="ImageAltText">The name of the text that describes an image (its one argument is the file's name).</param>
internal sealed record FilePreviews(IReadOnlyList<AirlockFileView> Files, IReadOnlyDictionary<string, FilePreview> ByName, string ImageAltText)
{
    /// <summary>No files, no previews.</summary>
    public static FilePreviews Empty { get; } = new([], new Dictionary<string, FilePreview>(), "PreviewImageAlt");
}
