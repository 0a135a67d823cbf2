using Microsoft.AspNetCore.Http;
using OpenSpe.Core.Access;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// The admission question of the browser upload page: the checks a tus creation makes (the dataset is the caller's, the file
/// type is allowed in this direction, no file of that name yet, the quotas and free space), answered before the browser reads,
/// hashes, encrypts or sends a byte, so a refusal costs the holder nothing. It changes nothing: creation checks again.
/// </summary>
internal static partial class TusEndpoints
{
    private static async Task<IResult> AdmissionAsync(string projectId, UploadAdmissionRequest request, HttpContext context, SpeDbContext database,
        AccessChain chain, UploadStorage storage)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(request.Dataset))
        {
            errors["dataset"] = ["Name the permit's dataset the file belongs to."];
        }

        if (!IsPlainFileName(request.Filename))
        {
            errors["filename"] = ["Give " + FileNameRule];
        }

        if (request.Length < 0)
        {
            errors["length"] = ["The length is the encrypted file's size in bytes, zero or more."];
        }

        if (errors.Count > 0)
        {
            AuditDenialReason.Set(context, "invalid-metadata");
            return Problems.Invalid(errors, "The upload cannot be checked: correct the fields named.");
        }

        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (await AuthorizeAsync(context, chain, access, request.Dataset!, request.Filename) is { } forbidden)
        {
            return forbidden;
        }

        // Note: uploads in progress are not counted here, because the page asks again before it resumes its own upload after a
        // reload; a second upload of a name in progress is refused by its creation (409 SPE5109), whose text the page shows.
        if (await DatasetFileEndpoints.DuplicateAsync(context, database, projectId, request.Dataset!, request.Filename, inProgress: false) is { } exists)
        {
            return exists;
        }

        // Note: the admission is asked and let go at once; creation claims the length for real.
        using (var admission = await storage.AdmitAsync(database, projectId, request.Length, context.RequestAborted))
        {
            if (admission.Refusal is { } refusal)
            {
                return Refused(context, refusal);
            }
        }

        return Results.NoContent();
    }
}
