using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace OpenSpe.Server.Airlock;

/// <summary>Reads an import request's multipart form under the airlock's own size limit rather than the API's.</summary>
/// <remarks>
/// Note: the server reads at most <c>Api:MaxRequestBodyBytes</c> (1 MiB) of any request, so nobody can make it spool much
/// before the access chain has judged them. An import is the one form that carries files, so its limit is raised here, in
/// the handler, which runs only once the chain has admitted a member of the project with a role that may bring files in.
/// </remarks>
internal static class ImportForms
{
    /// <summary>
    /// Reads the form, admitting up to <paramref name="limit"/> bytes of body; files are spooled to disk by the form reader.
    /// </summary>
    /// <exception cref="BadHttpRequestException">413: the body is larger than <paramref name="limit"/>.</exception>
    /// <exception cref="InvalidDataException">The multipart body is malformed.</exception>
    public static async Task<IFormCollection> ReadAsync(HttpContext context, long limit)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.ContentLength > limit)
        {
            throw new BadHttpRequestException($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        // Note: one section (one file) may be as large as the whole body; the server's own limit above fires first.
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, new FormOptions { MultipartBodyLengthLimit = limit + 1 }));
        return await context.Request.ReadFormAsync(context.RequestAborted);
    }
}
