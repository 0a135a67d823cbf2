using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Transfers;

/// <summary>Completes uploads: verification, storage as a dataset file, audit; and cleans up after projects end.</summary>
internal sealed class UploadService(SpeDbContext database, UploadStaging staging, IngestVerifier verifier, IngestSessions sessions, IObjectStore objects, PermitService permits, HaltRegistry halts, TimeProvider time, IAuditLog audit)
{
    /// <summary>
    /// Verifies a fully received upload and turns it into a dataset file; the staging copy and the upload are removed either
    /// way, unless the project is halted: then nothing is stored or changed (the upload and its bytes stay as they were).
    /// </summary>
    public async Task<UploadCompletion> CompleteAsync(UploadEntity upload, ClaimsPrincipal actor, string traceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var permit = await permits.FindByProjectAsync(upload.ProjectId, cancellationToken) ?? throw new InvalidOperationException("project vanished");
        var document = await permits.CurrentDocumentAsync(permit, cancellationToken);
        var allowed = PermitFileTypePolicy.AllowedIn(document, TransferDirection.Upload);
        var path = staging.PathOf(upload.Id);
        var id = "f-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        var key = $"projects/{upload.ProjectId}/datasets/{upload.DatasetId}/{id}.c4gh";
        var allowedSet = allowed.ToHashSet(StringComparer.Ordinal);
        // Note: usually proved while the bytes arrived; otherwise (a resumed or restarted upload) in one pass now.
        var proof = await sessions.FinishAsync(upload.Id, upload.Length);
        var result = proof is not null
            ? IngestVerifier.Judge(proof, upload.Filename, upload.PlaintextSha256, allowedSet)
            : await verifier.VerifyAsync(upload.ProjectId, path, upload.Filename, upload.PlaintextSha256, allowedSet, cancellationToken);

        // Note: the halt is checked again under the lease that the halt waits for, so no file of a halted project is stored
        // and no record of it follows the halt's (OPR-20): the object's rename, the rows and the audit record all happen inside.
        using var commit = halts.TryBeginCommit(upload.ProjectId);
        if (commit is null)
        {
            return new UploadCompletion(null, result, Halted: true);
        }

        if (result.Failure == IngestFailure.None)
        {
            // A store failure (e.g. disk full) propagates with the staged bytes kept, so an empty final PATCH retries.
            await StoreAsync(key, path, cancellationToken);
        }

        ProjectFileEntity? file = null;
        try
        {
            if (result.Failure == IngestFailure.None)
            {
                file = new ProjectFileEntity
                {
                    Id = id,
                    ProjectId = upload.ProjectId,
                    DatasetId = upload.DatasetId,
                    Filename = upload.Filename,
                    Size = upload.Length,
                    PlaintextSize = result.PlaintextSize,
                    Sha256 = result.Sha256,
                    PlaintextSha256 = result.PlaintextSha256,
                    ObjectKey = key,
                    UploadedBy = upload.CreatedBy,
                    UploadedAt = time.GetUtcNow(),
                };
                database.ProjectFiles.Add(file);
            }

            database.Uploads.Remove(upload);
            await database.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            staging.Delete(upload.Id);
        }

        await audit.AppendAsync(new AuditEntry(
            AuditActors.From(actor),
            file is null ? "upload.rejected" : "dataset.file.uploaded",
            new AuditResource("dataset-file", file?.Id ?? upload.Id, upload.ProjectId),
            file is null ? AuditOutcome.Denied : AuditOutcome.Success,
            null,
            traceId,
            new Dictionary<string, string>
            {
                ["dataset"] = upload.DatasetId,
                ["filename"] = upload.Filename,
                ["size"] = upload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["plaintextSize"] = result.PlaintextSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["sha256"] = result.Sha256,
                ["plaintextSha256"] = result.PlaintextSha256,
                ["result"] = result.Failure.ToString(),
            }), cancellationToken);
        return new UploadCompletion(file, result, Halted: false);
    }

    private async Task StoreAsync(string key, string path, CancellationToken cancellationToken)
    {
        if (objects is IObjectFileImport import)
        {
            // The staged file was synced by every PATCH; the store takes it over without a copy.
            await import.ImportFileAsync(key, path, cancellationToken);
            return;
        }

        await using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await objects.PutAsync(key, source, cancellationToken);
    }

    /// <summary>Drops the streaming verification and the staging file of an upload whose row is already gone.</summary>
    public void DeleteStaged(string uploadId)
    {
        sessions.Drop(uploadId);
        staging.Delete(uploadId);
    }

    /// <summary>Discards an upload after a failure; when that fails too, the sweep removes it at its expiry.</summary>
    public async Task TryDiscardAsync(UploadEntity upload)
    {
        try
        {
            await DiscardAsync(upload, CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbUpdateException or IOException or InvalidOperationException)
        {
            // Note: left for ExpiredUploadSweeper.
        }
    }

    /// <summary>Discards an upload and its bytes.</summary>
    public async Task DiscardAsync(UploadEntity upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        sessions.Drop(upload.Id);
        database.Uploads.Remove(upload);
        await database.SaveChangesAsync(cancellationToken);
        staging.Delete(upload.Id);
    }

}

/// <summary>How completing an upload ended.</summary>
/// <param name="File">The dataset file it became, or null.</param>
/// <param name="Result">What ingest found (why it was refused when <paramref name="File"/> is null and it is not <paramref name="Halted"/>).</param>
/// <param name="Halted">The project was halted before the file could be stored: nothing was committed and the upload is kept.</param>
internal sealed record UploadCompletion(ProjectFileEntity? File, IngestResult Result, bool Halted);

/// <summary>Discards a terminated project's unfinished uploads: a terminated project takes no more data.</summary>
/// <remarks>Separate from <see cref="UploadService"/>, which depends on the permit service that calls this hook.</remarks>
internal sealed class UploadTerminationHook(SpeDbContext database, UploadStaging staging, IngestSessions sessions) : IProjectTerminationHook
{
    /// <inheritdoc />
    public async Task OnProjectTerminatedAsync(string projectId, CancellationToken cancellationToken)
    {
        var uploads = await database.Uploads.Where(u => u.ProjectId == projectId).ToListAsync(cancellationToken);
        database.Uploads.RemoveRange(uploads);
        await database.SaveChangesAsync(cancellationToken);
        foreach (var upload in uploads)
        {
            sessions.Drop(upload.Id);
            staging.Delete(upload.Id);
        }
    }
}
