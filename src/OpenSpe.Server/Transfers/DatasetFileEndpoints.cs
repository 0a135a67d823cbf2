using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Access;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// A verified dataset file by its holder: a second upload of a name the dataset already holds is refused (409, see
/// <see cref="DuplicateAsync"/>) and the holder deletes the old file first, so a dataset never holds two files of one name.
/// </summary>
internal static class DatasetFileEndpoints
{
    /// <summary>Maps <c>DELETE /api/v1/projects/{projectId}/datasets/{datasetId}/files/{fileId}</c>.</summary>
    public static RouteGroupBuilder MapDatasetFileEndpoints(this RouteGroupBuilder project)
    {
        ArgumentNullException.ThrowIfNull(project);
        project.MapDelete("/datasets/{datasetId}/files/{fileId}", DeleteAsync).WithName("dataset.files.delete")
            .WithMetadata(new ProjectActionAttribute("dataset.files.delete", SpeRoles.DataHolder))
            .WithSummary("Deletes a verified dataset file and its stored object (the dataset's holder only).")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status423Locked)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return project;
    }

    /// <summary>
    /// The problem for a second upload of <paramref name="filename"/> to <paramref name="dataset"/>: the dataset holds a file of that
    /// name, or an upload of that name is in progress (created, not finished, not expired). Null when the name is free.
    /// </summary>
    /// <remarks>
    /// Note: two uploads of one name created before either finished would both store a file of that name, and every job of the
    /// project would then fail to stage the dataset; the in-progress check refuses the second at creation, and the unique index on
    /// (project, dataset, file name) refuses whichever completes second when two instances created them at once.
    /// </remarks>
    /// <param name="context">The request.</param>
    /// <param name="database">The database.</param>
    /// <param name="projectId">The project.</param>
    /// <param name="dataset">The dataset.</param>
    /// <param name="filename">The file name, or null (a partial upload without one: nothing to check).</param>
    /// <param name="inProgress">False for the browser page's admission question, which a page resuming its own upload asks again.</param>
    internal static async Task<IResult?> DuplicateAsync(HttpContext context, SpeDbContext database, string projectId, string dataset, string? filename, bool inProgress = true)
    {
        if (filename is null)
        {
            return null;
        }

        var existing = await database.ProjectFiles.Where(f => f.ProjectId == projectId && f.DatasetId == dataset && f.Filename == filename)
            .Select(f => f.Id).FirstOrDefaultAsync(context.RequestAborted);
        if (existing is not null)
        {
            AuditDenialReason.Set(context, "file-exists");
            context.Response.Headers[TusHeaders.Resumable] = TusProtocol.Version;
            return Problems.Of(StatusCodes.Status409Conflict,
                $"Dataset {dataset} already holds a file named '{filename}' ({existing}). Delete it first ('spe dataset rm', "
                + $"DELETE /api/v1/projects/{projectId}/datasets/{dataset}/files/{existing}) to replace it.", ErrorCodes.DatasetFileExists);
        }

        if (!inProgress)
        {
            return null;
        }

        // Partial uploads carry no name of their own (their final upload declares it); an expired upload is gone, whether or not the sweep removed it yet.
        // Note: only the caller's own uploads count. The caller passed the dataset step as the dataset's holder, and only its holder
        // can complete an upload to it, so an upload another account made (before an amendment gave the dataset to the caller) can
        // never complete: it must not hold the name from the new holder until it expires.
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var caller = context.User.FindFirst("sub")?.Value ?? "";
        var inFlight = (await database.Uploads.Where(u => u.ProjectId == projectId && u.DatasetId == dataset && u.Filename == filename && !u.Partial && u.CreatedBy == caller)
            .Select(u => new { u.Id, u.ExpiresAt }).ToListAsync(context.RequestAborted)).FirstOrDefault(u => u.ExpiresAt > now);
        if (inFlight is null)
        {
            return null;
        }

        AuditDenialReason.Set(context, "upload-in-progress");
        context.Response.Headers[TusHeaders.Resumable] = TusProtocol.Version;
        return Problems.Of(StatusCodes.Status409Conflict,
            $"An upload of '{filename}' to dataset {dataset} is in progress ({inFlight.Id}, until {inFlight.ExpiresAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}). Finish it, "
            + $"terminate it (DELETE /api/v1/projects/{projectId}/uploads/{inFlight.Id}) or let it expire before uploading the name again.", ErrorCodes.DatasetFileExists);
    }

    private static async Task<IResult> DeleteAsync(string projectId, string datasetId, string fileId, HttpContext context, SpeDbContext database, AccessChain chain,
        IObjectStore objects, HaltRegistry halts, IAuditLog audit, OpenSpe.Workspaces.IPlaintextStaging staging)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;

        // Note: only the holder the permit names for the dataset, by account id, as for uploads (SDR-1): another holder of the
        // same project is refused before the file is looked up, so the answer says nothing about their files.
        if (await chain.DecideResourceAsync(access.Grant, datasetId, null, context.RequestAborted) is { } refusal)
        {
            AuditDenialReason.Set(context, refusal.Reason);
            return Problems.Of(refusal.Status, refusal.Message, ProjectAccessSetup.CodeOf(refusal));
        }

        var file = await database.ProjectFiles.FirstOrDefaultAsync(f => f.Id == fileId && f.ProjectId == projectId && f.DatasetId == datasetId, context.RequestAborted);
        if (file is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"Dataset {datasetId} holds no file {fileId}.", ErrorCodes.NotFound);
        }

        // Note: under the lease a halt waits for, as for storing a file (OPR-20): nothing of a halted project changes.
        using var commit = halts.TryBeginCommit(projectId);
        if (commit is null)
        {
            AuditDenialReason.Set(context, "halted");
            return Problems.Of(StatusCodes.Status423Locked, "This project is halted by an emergency stop; nothing can be deleted until it is resumed.", ErrorCodes.ProjectHalted);
        }

        // The row goes first: a failure after it leaves an unreferenced object (erased with the project), never a listed file without its bytes.
        database.ProjectFiles.Remove(file);
        await database.SaveChangesAsync(context.RequestAborted);
        await objects.DeleteAsync(file.ObjectKey, CancellationToken.None);
        // Note: a decrypted copy staged for the project's sandboxes (a desktop, a job, a federated analysis) still holds the file;
        // it goes now, so nothing reads the deleted data again, and the next lease decrypts what is stored.
        await staging.RemoveAsync(projectId, CancellationToken.None);
        await audit.AppendAsync(new AuditEntry(
            AuditActors.From(context.User, context),
            "dataset.file.deleted",
            new AuditResource("dataset-file", file.Id, projectId),
            AuditOutcome.Success,
            StatusCodes.Status204NoContent,
            TraceIds.Current(context),
            new Dictionary<string, string>
            {
                ["dataset"] = file.DatasetId,
                ["filename"] = file.Filename,
                ["sha256"] = file.Sha256,
                ["plaintextSha256"] = file.PlaintextSha256,
            }), CancellationToken.None);
        return TypedResults.NoContent();
    }
}
