using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Transfers;

/// <summary>Completes uploads: verification, storage as a dataset file, audit; and cleans up after projects end.</summary>
internal sealed class UploadService(SpeDbContext database, UploadStaging staging, IngestVerifier verifier, IngestSessions sessions, IObjectStore objects, PermitService permits,
    AccessChain chain, HaltRegistry halts, TimeProvider time, IAuditLog audit)
{
    /// <summary>The action an upload's completion is decided as again (<see cref="AccessChain.DecideCommitAsync"/>): a data holder's upload to a dataset they hold.</summary>
    public static readonly ProjectAction CompletionAction = new("uploads.complete", [SpeRoles.DataHolder]);

    /// <summary>
    /// Verifies a fully received upload and turns it into a dataset file; the staging copy and the upload are removed either
    /// way, unless the project is halted or the permit is not in force before anything was stored: then nothing is stored or
    /// changed (the upload and its bytes stay as they were).
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

        // Note: the upload was admitted against the permit of its creation (and each PATCH against the permit of its request);
        // an amendment, a suspension or a revocation since then decides now, before a byte is stored (EHDSR-3, SDR-1).
        var request = new AccessRequest(ProjectAccessSetup.PrincipalOf(actor), upload.ProjectId, CompletionAction, upload.DatasetId);
        if (await chain.DecideCommitAsync(request, cancellationToken) is { } refused)
        {
            // Note: a suspended permit (or one not valid yet) keeps the upload as it is, because a suspension deletes nothing and may
            // be lifted: an empty PATCH at the end completes it then, and termination discards it. Any other refusal (revoked or
            // expired, the dataset given to another holder or dropped, the holder no longer named) cannot pass later: it is discarded.
            // Training that lapsed is the same: it can be renewed, and the upload then completes.
            return await RefusedAsync(upload, actor, traceId, result, refused, keep: refused.Reason is "permit-suspended" or "permit-not-yet-valid" || refused.Kind == AccessRefusalKind.TrainingMissing);
        }

        string? stored = null;
        if (result.Failure == IngestFailure.None)
        {
            // A store failure (e.g. disk full) propagates with the staged bytes kept, so an empty final PATCH retries.
            await StoreAsync(key, path, cancellationToken);
            stored = key;
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
            await using var transaction = await database.Database.BeginTransactionAsync(cancellationToken);
            // Note: the permit's row is locked (PostgreSQL: a row lock; SQLite: the write lock) before the decision is read again
            // inside the same transaction, so no amendment, suspension or revocation can commit between that decision and the
            // file's row: every permit change updates this row, and waits for this commit or is seen by the decision.
            await database.Permits.Where(p => p.ProjectId == upload.ProjectId)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Revision, p => p.Revision), cancellationToken);
            if (await chain.DecideCommitAsync(request, cancellationToken) is { } late)
            {
                await transaction.RollbackAsync(CancellationToken.None);
                return await RefusedAfterStoreAsync(upload, file, stored, actor, traceId, result, late);
            }

            try
            {
                await database.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (file is not null && DatabaseErrors.IsUniqueViolation(ex))
            {
                // Note: another upload of the same name in the same dataset completed first (the unique index on project, dataset
                // and file name decides, atomically, across instances): this one is refused as a second creation would be.
                await transaction.RollbackAsync(CancellationToken.None);
                return await RefusedAfterStoreAsync(upload, file, stored, actor, traceId, result,
                    AccessRefusal.Forbidden("file-exists", $"Dataset {upload.DatasetId} already holds a file named '{upload.Filename}'."), duplicate: true);
            }

            await transaction.CommitAsync(CancellationToken.None);
        }
        finally
        {
            staging.Delete(upload.Id);
        }

        await AuditCompletionAsync(upload, file, actor, traceId, result, reason: null);
        return new UploadCompletion(file, result, Halted: false);
    }

    /// <summary>A refusal found after the bytes were stored: the object goes, and the upload is discarded (its staged bytes were moved).</summary>
    private async Task<UploadCompletion> RefusedAfterStoreAsync(UploadEntity upload, ProjectFileEntity? file, string? stored, ClaimsPrincipal actor, string traceId, IngestResult result,
        AccessRefusal refusal, bool duplicate = false)
    {
        if (file is not null)
        {
            database.Entry(file).State = EntityState.Detached;
        }

        if (stored is not null)
        {
            await objects.DeleteAsync(stored, CancellationToken.None);
        }

        return await RefusedAsync(upload, actor, traceId, result, refusal, keep: false, duplicate);
    }

    /// <summary>Answers a completion the permit (or an existing file of the name) refuses; discards the upload unless <paramref name="keep"/>.</summary>
    private async Task<UploadCompletion> RefusedAsync(UploadEntity upload, ClaimsPrincipal actor, string traceId, IngestResult result, AccessRefusal refusal, bool keep,
        bool duplicate = false)
    {
        if (!keep)
        {
            sessions.Drop(upload.Id);
            if (database.Entry(upload).State != EntityState.Deleted)
            {
                database.Uploads.Remove(upload);
            }

            try
            {
                await database.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException)
            {
                // The project's termination removed the row already (a revocation or expiry the refusal names).
                database.ChangeTracker.Clear();
            }

            staging.Delete(upload.Id);
            await AuditCompletionAsync(upload, null, actor, traceId, result, refusal.Reason);
        }

        return new UploadCompletion(null, result, Halted: false, new UploadRefusal(refusal, duplicate), Kept: keep);
    }

    private async Task AuditCompletionAsync(UploadEntity upload, ProjectFileEntity? file, ClaimsPrincipal actor, string traceId, IngestResult result, string? reason)
    {
        var details = new Dictionary<string, string>
        {
            ["dataset"] = upload.DatasetId,
            ["filename"] = upload.Filename,
            ["size"] = upload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["plaintextSize"] = result.PlaintextSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["sha256"] = result.Sha256,
            ["plaintextSha256"] = result.PlaintextSha256,
            ["result"] = result.Failure.ToString(),
        };
        if (reason is not null)
        {
            details["reason"] = reason;
        }

        await audit.AppendAsync(new AuditEntry(
            AuditActors.From(actor),
            file is null ? "upload.rejected" : "dataset.file.uploaded",
            new AuditResource("dataset-file", file?.Id ?? upload.Id, upload.ProjectId),
            file is null ? AuditOutcome.Denied : AuditOutcome.Success,
            null,
            traceId,
            details), CancellationToken.None);
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
/// <param name="Result">What ingest found (why it was refused when <paramref name="File"/> is null and it is neither <paramref name="Halted"/> nor <paramref name="Refusal"/>).</param>
/// <param name="Halted">The project was halted before the file could be stored: nothing was committed and the upload is kept.</param>
/// <param name="Refusal">The permit in force at completion (or a file of the same name stored first) refused it; null otherwise.</param>
/// <param name="Kept">With <paramref name="Refusal"/>: nothing was committed and the upload is kept (the permit is not in force now); otherwise it was discarded.</param>
internal sealed record UploadCompletion(ProjectFileEntity? File, IngestResult Result, bool Halted, UploadRefusal? Refusal = null, bool Kept = false);

/// <summary>Why a completion was refused: the access chain's refusal, or a file of the same name that completed first.</summary>
/// <param name="Access">The refusal (status, reason class and sentence).</param>
/// <param name="Duplicate">True for the name taken by a file stored first (409 <c>SPE5109</c>).</param>
internal sealed record UploadRefusal(AccessRefusal Access, bool Duplicate)
{
    /// <summary>The HTTP status.</summary>
    public int Status => Duplicate ? 409 : Access.Status;

    /// <summary>The stable error code: the one the chain's refusal carries on any request, or <c>SPE5109</c>.</summary>
    public string Code => Duplicate ? ErrorCodes.DatasetFileExists : ProjectAccessSetup.CodeOf(Access);
}

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
