using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;
using OpenSpe.IO;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// Resumable uploads by data holders (EHDSR-11, TIR-5): tus 1.0.0 with the creation,
/// creation-with-upload, checksum (sha1, sha256), expiration, termination and concatenation extensions, at
/// <c>/api/v1/projects/{projectId}/uploads</c> (concatenation lets a client declare the plaintext's SHA-256 after sending
/// the bytes, in the final upload's metadata, so it can hash while it sends). Bytes go to an owner-only staging file and the
/// offset advances only after they are on disk, so an upload survives a restart and resumes.
/// On completion the file is verified (<see cref="IngestVerifier"/>) before it becomes a dataset file.
/// </summary>
internal static partial class TusEndpoints
{
    /// <summary>Maps the tus endpoints, the project public key and the dataset files listing.</summary>
    public static IEndpointRouteBuilder MapTransferEndpoints(this IEndpointRouteBuilder routes)
    {
        var project = routes.MapGroup("/api/v1/projects/{projectId}").WithTags("Transfers").RequireAuthorization(SpePolicies.HumanOrClient)
            .WithMetadata(new AuditResourceAttribute("upload")).ProducesProjectProblems();
        project.MapGet("/public-key", PublicKeyAsync).WithName("projects.public-key")
            .WithMetadata(new ProjectActionAttribute("project.public-key", SpeRoles.DataHolder, SpeRoles.Researcher, PermitRoles.Application))
            .WithSummary("The project's Crypt4GH public key: encrypt for it before uploading.");
        project.MapGet("/files", FilesAsync).WithName("projects.files.list")
            .WithMetadata(new ProjectActionAttribute("project.files.list", SpeRoles.DataHolder, SpeRoles.Researcher, PermitRoles.Application))
            .WithSummary("Verified dataset files (metadata only; holders see the datasets they hold).");
        project.MapDatasetFileEndpoints();

        var uploads = project.MapGroup("/uploads");
        uploads.MapMethods("", ["OPTIONS"], Options).WithName("uploads.options").Produces(204)
            .WithMetadata(new ProjectActionAttribute("uploads.options", SpeRoles.DataHolder)).WithSummary("tus discovery.");
        // Note: creation-with-upload and a final upload verify the file at once, so creation answers what a last PATCH answers.
        uploads.MapPost("", CreateAsync).WithName("uploads.create").Produces(201).ProducesProblems(400, 412, 413, 415, 422, 460, 507)
            .WithMetadata(new ProjectActionAttribute("uploads.create", SpeRoles.DataHolder))
            .WithSummary("tus creation (and creation-with-upload, and concatenation: Upload-Concat partial or final). Upload-Metadata: dataset, filename, plaintextSha256.");
        uploads.MapPost("/admission", AdmissionAsync).WithName("uploads.admission").Produces(204).ProducesProblems(400, 403, 409, 413, 507).ProducesJsonBodyProblems()
            .WithMetadata(new ProjectActionAttribute("uploads.admission", SpeRoles.DataHolder))
            .WithSummary("Would an upload of this dataset, file name and length be admitted? Asked before encrypting (the browser upload page); changes nothing.");
        uploads.MapPost("/tickets", UploadTicket.Issue).WithName("uploads.ticket").RequireAuthorization(SpePolicies.Human)
            .WithMetadata(new ProjectActionAttribute("uploads.ticket", SpeRoles.DataHolder))
            .WithSummary("An upload ticket for the browser upload page: a token for you, valid as long as an access token, that opens only this project's upload (datasets, public key, admission, tus) and nothing else.");
        uploads.MapMethods("/{uploadId}", ["HEAD"], HeadAsync).WithName("uploads.offset").Produces(200).ProducesProblems(412)
            .WithMetadata(new ProjectActionAttribute("uploads.offset", SpeRoles.DataHolder)).WithSummary("tus: the current offset.");
        uploads.MapPatch("/{uploadId}", PatchAsync).WithName("uploads.append").Produces(204).ProducesProblems(400, 409, 412, 413, 415, 422, 460, 507)
            .WithMetadata(new ProjectActionAttribute("uploads.append", SpeRoles.DataHolder))
            .WithSummary("tus: appends bytes at Upload-Offset; the last PATCH verifies the file (422 when it is refused).");
        uploads.MapDelete("/{uploadId}", DeleteAsync).WithName("uploads.terminate").Produces(204).ProducesProblems(412)
            .WithMetadata(new ProjectActionAttribute("uploads.terminate", SpeRoles.DataHolder)).WithSummary("tus termination.");
        return routes;
    }

    private static IResult Options(HttpContext context, IOptions<UploadOptions> options)
    {
        var headers = context.Response.Headers;
        headers[TusHeaders.Resumable] = TusProtocol.Version;
        headers[TusHeaders.Version] = TusProtocol.Version;
        headers[TusHeaders.Extension] = TusProtocol.Extensions;
        headers[TusHeaders.MaxSize] = options.Value.MaxUploadBytes.ToString(CultureInfo.InvariantCulture);
        headers[TusHeaders.ChecksumAlgorithm] = "sha1,sha256";
        return Results.NoContent();
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<ProjectPublicKeyView>> PublicKeyAsync(string projectId, IProjectKeyStore keys, CancellationToken cancellationToken)
    {
        var key = await keys.GetPublicKeyAsync(projectId, cancellationToken);
        return TypedResults.Ok(new ProjectPublicKeyView(key.ToPem(), key.Fingerprint));
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<List<ProjectFileView>>> FilesAsync(string projectId, HttpContext context, SpeDbContext database, AccessChain chain, Microsoft.AspNetCore.Identity.UserManager<SpeUser> users, CancellationToken cancellationToken)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        var files = await database.ProjectFiles.Where(f => f.ProjectId == projectId).ToListAsync(cancellationToken);
        if (!access.MemberRoles.Contains(SpeRoles.Researcher) && !access.MemberRoles.Contains(PermitRoles.Application))
        {
            // Note: a holder sees only the files of the datasets they hold, never another holder's (SDR-1), matched by account id.
            var mine = await chain.HeldDatasetsAsync(access.Grant, cancellationToken);
            files = files.Where(f => mine.Contains(f.DatasetId)).ToList();
        }

        var views = new List<ProjectFileView>();
        foreach (var f in files.OrderBy(f => f.UploadedAt))
        {
            views.Add(new ProjectFileView(f.Id, f.DatasetId, f.Filename, f.Size, f.PlaintextSize, f.Sha256, f.PlaintextSha256,
                (await users.FindByIdAsync(f.UploadedBy))?.UserName ?? f.UploadedBy, f.UploadedAt));
        }

        return TypedResults.Ok(views);
    }

    private static async Task<IResult> CreateAsync(string projectId, HttpContext context, SpeDbContext database, AccessChain chain, UploadStaging staging,
        UploadService service, UploadStorage storage, HaltRegistry halts, IOptions<UploadOptions> options, TimeProvider time)
    {
        if (RefuseVersion(context) is { } refusal)
        {
            return refusal;
        }

        var concat = context.Request.Headers[TusHeaders.UploadConcat].ToString();
        if (concat.StartsWith(TusProtocol.ConcatFinalPrefix, StringComparison.Ordinal))
        {
            return await CreateFinalAsync(projectId, concat, context, database, chain, service, staging, storage, halts, options, time);
        }

        if (concat.Length > 0 && concat != TusProtocol.ConcatPartial)
        {
            return Problem(context, 400, ErrorCodes.BadRequest, "Upload-Concat must be 'partial', or 'final;' followed by the partial uploads' URLs.");
        }

        var partial = concat.Length > 0;
        if (!long.TryParse(context.Request.Headers[TusHeaders.UploadLength], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return Problem(context, 400, ErrorCodes.BadRequest, "Upload-Length is required (deferred lengths are not supported).");
        }

        if (length > options.Value.MaxUploadBytes)
        {
            // Checked again at admission below; refused here before anything else is looked at.
            return Refused(context, new StorageRefusal(413, ErrorCodes.UploadTooLarge, "upload-quota",
                $"The upload's {length} bytes are more than the largest upload accepted, {options.Value.MaxUploadBytes} bytes."));
        }

        var metadata = ReadMetadata(context, partial);
        if (metadata.Refusal is { } invalid)
        {
            return invalid;
        }

        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (await AuthorizeAsync(context, chain, access, metadata.Dataset, metadata.Filename) is { } forbidden)
        {
            return forbidden;
        }

        if (await DatasetFileEndpoints.DuplicateAsync(context, database, projectId, metadata.Dataset, metadata.Filename) is { } exists)
        {
            return exists;
        }

        var now = time.GetUtcNow();
        var upload = new UploadEntity
        {
            Id = NewUploadId(),
            ProjectId = projectId,
            DatasetId = metadata.Dataset,
            Filename = metadata.Filename ?? "",
            PlaintextSha256 = metadata.PlaintextSha256 ?? "",
            Partial = partial,
            Length = length,
            CreatedBy = context.User.FindFirst("sub")?.Value ?? "",
            CreatedAt = now,
            ExpiresAt = now + options.Value.Expiration,
        };
        // Note: the declared length is claimed against the quotas and the free space before anything is written (#11.7).
        using (var admission = await storage.AdmitAsync(database, projectId, length, context.RequestAborted))
        {
            if (admission.Refusal is { } storageRefusal)
            {
                return Refused(context, storageRefusal);
            }

            // Note: asked again while this creation holds the admission (creations are admitted one at a time), so of two
            // creations of one name at once the second sees the first's row; across instances the unique index decides at completion.
            if (!partial && await DatasetFileEndpoints.DuplicateAsync(context, database, projectId, metadata.Dataset, metadata.Filename) is { } racing)
            {
                return racing;
            }

            using var commit = halts.TryBeginCommit(projectId);
            if (commit is null)
            {
                return Halted(context);
            }

            staging.Create(upload.Id);
            try
            {
                database.Uploads.Add(upload);
                await database.SaveChangesAsync(context.RequestAborted);
            }
            catch
            {
                // A failed upload leaves no staging file behind.
                database.Entry(upload).State = EntityState.Detached;
                staging.Delete(upload.Id);
                throw;
            }
        }

        var location = $"/api/v1/projects/{projectId}/uploads/{upload.Id}";
        context.Response.Headers.Location = location;
        context.Response.Headers[TusHeaders.UploadExpires] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        if (partial)
        {
            context.Response.Headers[TusHeaders.UploadConcat] = TusProtocol.ConcatPartial;
        }

        if (context.Request.ContentType == TusProtocol.OffsetOctetStream && (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0))
        {
            var appended = await AppendAsync(context, upload, database, staging, service);
            if (appended is not null)
            {
                return appended;
            }
        }

        SetTusHeader(context);
        context.Response.Headers[TusHeaders.UploadOffset] = upload.Offset.ToString(CultureInfo.InvariantCulture);
        return Results.StatusCode(201);
    }

    /// <summary>The dataset, file name and plaintext SHA-256 of <c>Upload-Metadata</c>, or a 400 naming what is wrong.</summary>
    /// <param name="context">The request.</param>
    /// <param name="partial">For a partial upload only the dataset is required (a file name, when given, must still be plain).</param>
    private static UploadMetadata ReadMetadata(HttpContext context, bool partial)
    {
        var metadata = ParseMetadata(context.Request.Headers[TusHeaders.UploadMetadata].ToString());
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var dataset = metadata.GetValueOrDefault(TusMetadata.Dataset);
        var filename = metadata.GetValueOrDefault(TusMetadata.Filename);
        var plaintextSha = partial ? null : metadata.GetValueOrDefault(TusMetadata.PlaintextSha256)?.ToLowerInvariant();
        if (string.IsNullOrEmpty(dataset))
        {
            errors["dataset"] = ["Upload-Metadata must name the permit's dataset."];
        }

        if ((filename is not null || !partial) && !IsPlainFileName(filename))
        {
            errors["filename"] = ["Upload-Metadata must give " + FileNameRule];
        }

        if (!partial && (plaintextSha is null || plaintextSha.Length != 64 || !plaintextSha.All(char.IsAsciiHexDigitLower)))
        {
            errors["plaintextSha256"] = ["Upload-Metadata must give the plaintext's SHA-256 as 64 hex digits."];
        }

        if (errors.Count == 0)
        {
            return new UploadMetadata(dataset!, filename, plaintextSha, null);
        }

        AuditDenialReason.Set(context, "invalid-metadata");
        SetTusHeader(context);
        return new UploadMetadata("", null, null, Problems.Invalid(errors, "The upload metadata is invalid."));
    }

    /// <summary>What a file name must be, as a refusal says it.</summary>
    private const string FileNameRule = "a plain file name (no path, no control, bidirectional or zero-width characters, at most 255 characters).";

    /// <summary>True for a plain file name: no path, no control, bidirectional or zero-width characters, 1 to 255 characters.</summary>
    private static bool IsPlainFileName(string? filename) =>
        filename is not null && filename.Length is > 0 and <= 255 && filename is not "." and not ".."
        && !filename.Any(c => c is '/' or '\\' || TextRules.IsUnsafeInFileName(c));

    /// <summary>
    /// The access chain's dataset and file-type steps, now that the metadata names them: null when the caller is the holder the
    /// permit names for <paramref name="dataset"/> and the file type (if a file is named) may be uploaded; else the 403.
    /// </summary>
    private static async Task<IResult?> AuthorizeAsync(HttpContext context, AccessChain chain, ProjectAccess access, string dataset, string? filename)
    {
        var transfer = filename is null ? null : new FileTransfer(TransferDirection.Upload, FileTypes.ExtensionOf(filename));
        if (await chain.DecideResourceAsync(access.Grant, dataset, transfer, context.RequestAborted) is not { } refusal)
        {
            return null;
        }

        AuditDenialReason.Set(context, refusal.Reason);
        return Problem(context, refusal.Status, ProjectAccessSetup.CodeOf(refusal), refusal.Message);
    }

    private static string NewUploadId() => "up-" + RandomNumberGenerator.GetHexString(24, lowercase: true);

    private static async Task<IResult> HeadAsync(string projectId, string uploadId, HttpContext context, SpeDbContext database, UploadService service, TimeProvider time)
    {
        if (RefuseVersion(context) is { } refusal)
        {
            return refusal;
        }

        var upload = await FindAsync(context, database, service, projectId, uploadId, time, locked: false);
        if (upload is null)
        {
            SetTusHeader(context);
            return Results.NotFound();
        }

        SetTusHeader(context);
        if (upload.Partial)
        {
            context.Response.Headers[TusHeaders.UploadConcat] = TusProtocol.ConcatPartial;
        }

        context.Response.Headers[TusHeaders.UploadOffset] = upload.Offset.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[TusHeaders.UploadLength] = upload.Length.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[TusHeaders.UploadExpires] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Ok();
    }

    private static async Task<IResult> PatchAsync(string projectId, string uploadId, HttpContext context, SpeDbContext database, UploadStaging staging, UploadService service, TimeProvider time)
    {
        if (RefuseVersion(context) is { } refusal)
        {
            return refusal;
        }

        if (context.Request.ContentType != TusProtocol.OffsetOctetStream)
        {
            return Problem(context, 415, ErrorCodes.UnsupportedMediaType, $"PATCH bodies must be {TusProtocol.OffsetOctetStream}.");
        }

        using var held = await UploadLocks.AcquireAsync(uploadId, context.RequestAborted);
        var upload = await FindAsync(context, database, service, projectId, uploadId, time, locked: true);
        if (upload is null)
        {
            return Problem(context, 404, ErrorCodes.NotFound, "There is no such upload (finished, terminated or expired).");
        }

        // Note: the PATCH's action names no dataset, so the gate ran no dataset step: it runs here with the upload's dataset, against
        // the permit of this request, because an amendment since the creation may have given the dataset to another holder or dropped
        // it (SDR-1, EHDSR-3). Such an upload can never complete, so it is discarded with its staged bytes; the creation's 403 answers.
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (await context.RequestServices.GetRequiredService<AccessChain>().DecideResourceAsync(access.Grant, upload.DatasetId, null, context.RequestAborted) is { } withdrawn)
        {
            using (var commit = context.RequestServices.GetRequiredService<HaltRegistry>().TryBeginCommit(projectId))
            {
                if (commit is not null)
                {
                    await service.DiscardAsync(upload, CancellationToken.None);
                }
            }

            AuditDenialReason.Set(context, withdrawn.Reason);
            return Problem(context, withdrawn.Status, ProjectAccessSetup.CodeOf(withdrawn), withdrawn.Message + " The upload was discarded.");
        }

        if (!long.TryParse(context.Request.Headers[TusHeaders.UploadOffset], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return Problem(context, 400, ErrorCodes.BadRequest, "Upload-Offset is required.");
        }

        if (offset != upload.Offset)
        {
            context.Response.Headers[TusHeaders.UploadOffset] = upload.Offset.ToString(CultureInfo.InvariantCulture);
            return Problem(context, 409, ErrorCodes.UploadOffsetMismatch, $"Upload-Offset {offset} does not match the server's offset {upload.Offset}: ask with HEAD and resume from there.");
        }

        return await AppendAsync(context, upload, database, staging, service) ?? NoContentWithOffset(context, upload);
    }

    private static async Task<IResult> DeleteAsync(string projectId, string uploadId, HttpContext context, SpeDbContext database, UploadService service, TimeProvider time)
    {
        if (RefuseVersion(context) is { } refusal)
        {
            return refusal;
        }

        // Note: under the upload's lock, so a termination never lands in the middle of a PATCH or of a final upload's completion.
        using (await UploadLocks.AcquireAsync(uploadId, context.RequestAborted))
        {
            var upload = await FindAsync(context, database, service, projectId, uploadId, time, locked: true);
            if (upload is null)
            {
                return Problem(context, 404, ErrorCodes.NotFound, "There is no such upload.");
            }

            using var commit = context.RequestServices.GetRequiredService<HaltRegistry>().TryBeginCommit(projectId);
            if (commit is null)
            {
                return Halted(context);
            }

            await service.DiscardAsync(upload, context.RequestAborted);
        }

        SetTusHeader(context);
        return Results.NoContent();
    }

    /// <summary>Appends the request body at the upload's offset; null when the caller should answer 204 with the new offset.</summary>
    private static async Task<IResult?> AppendAsync(HttpContext context, UploadEntity upload, SpeDbContext database, UploadStaging staging, UploadService service)
    {
        var remaining = upload.Length - upload.Offset;
        if (context.Request.ContentLength is { } declared && declared > remaining)
        {
            return Problem(context, 413, ErrorCodes.BodyTooLarge, $"The body is longer than the {remaining} bytes the upload still expects.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // Uploads are limited by Upload-Length, not by the JSON body limit.
            limit.MaxRequestBodySize = remaining;
        }

        IncrementalHash? checksum = null;
        byte[]? expected = null;
        var checksumHeader = context.Request.Headers[TusHeaders.UploadChecksum].ToString();
        if (checksumHeader.Length > 0)
        {
            var parts = checksumHeader.Split(' ', 2);
            var algorithm = parts[0] switch { "sha256" => HashAlgorithmName.SHA256, "sha1" => HashAlgorithmName.SHA1, _ => default };
            if (algorithm == default || parts.Length != 2)
            {
                return Problem(context, 400, ErrorCodes.BadRequest, "Upload-Checksum must be 'sha256 <base64>' or 'sha1 <base64>'.");
            }

            // A client's malformed header is an expected refusal, decoded without an exception.
            var decoded = new byte[((parts[1].Length + 3) / 4) * 3];
            if (!Convert.TryFromBase64String(parts[1], decoded, out var length))
            {
                return Problem(context, 400, ErrorCodes.BadRequest, "The Upload-Checksum value is not base64.");
            }

            expected = decoded[..length];

            checksum = IncrementalHash.CreateHash(algorithm);
        }

        var start = upload.Offset;
        long written = 0;
        var aborted = false;
        StorageRefusal? full = null;
        var path = staging.PathOf(upload.Id);
        var sessions = context.RequestServices.GetRequiredService<IngestSessions>();
        var storage = context.RequestServices.GetRequiredService<UploadStorage>();
        var halts = context.RequestServices.GetRequiredService<HaltRegistry>();
        var session = sessions.Join(upload.ProjectId, upload.Id, start);
        // Anything past the committed offset is from an interrupted write that was never acknowledged.
        using (var file = StagingFileWriter.Open(path, start))
        {
            // Note: bodies are read into aligned blocks, so they go to the disk and to the verifier without further copies.
            var pool = AlignedBlockPool.Shared;
            var block = pool.Rent();
            try
            {
                int read;
                // Note: a whole block per step (or the rest of the body); a TLS record at a time would mean a write and a feed per 16 KiB.
                // Note: with the request's token, which a halt of the project cancels (ProjectAccessGate), so a halt stops the body at once.
                while ((read = await context.Request.Body.ReadAtLeastAsync(block, block.Length, throwOnEndOfStream: false, context.RequestAborted)) > 0)
                {
                    if (written + read > remaining)
                    {
                        file.Truncate(start);
                        sessions.Drop(upload.Id);
                        return Problem(context, 413, ErrorCodes.BodyTooLarge, "The body is longer than the upload still expects.");
                    }

                    if (!storage.HasRoomFor(read))
                    {
                        // Note: the free-space reserve keeps the audit log and the database writable; what was written so far is kept.
                        full = UploadStorage.NoRoom(remaining - written);
                        break;
                    }

                    // Note: the disk write (O_DIRECT, so the thread waits for the device) runs while this thread hashes the block.
                    var bytes = block[..read];
                    var writing = Task.Run(() => file.Write(bytes.Span));
                    try
                    {
                        checksum?.AppendData(bytes.Span);
                        if (session is not null)
                        {
                            await session.FeedAsync(block, read, writing);
                            block = pool.Rent();
                        }
                        else
                        {
                            await writing;
                        }
                    }
                    catch
                    {
                        // The block goes back to the pool and the file is closed below: the write must be over first.
                        await writing.ContinueWith(static _ => { }, TaskScheduler.Default);
                        throw;
                    }

                    written += read;
                }
            }
            catch (IOException ex) when (UploadStorage.IsDiskFull(ex))
            {
                // The file system filled up all the same (something else wrote to it): the failed block is cut off, the rest kept.
                file.Truncate(start + written);
                sessions.Drop(upload.Id);
                full = UploadStorage.NoRoom(remaining - written);
            }
            catch (OperationCanceledException) when (halts.IsHalted(upload.ProjectId))
            {
                // Note: halted while the body arrived: nothing of this PATCH is kept or acknowledged (OPR-20).
                file.Truncate(start);
                sessions.Drop(upload.Id);
                return Halted(context);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
            {
                // The client went away mid-body: keep what arrived (unless it must match a checksum), so it can resume.
                // Its verification is dropped; a resume may come much later, and completion then verifies the file.
                aborted = true;
                sessions.Drop(upload.Id);
                if (ex is BadHttpRequestException { StatusCode: 413 })
                {
                    file.Truncate(start);
                    return Problem(context, 413, ErrorCodes.BodyTooLarge, "The body is longer than the upload still expects.");
                }
            }
            finally
            {
                pool.Return(block);
            }

            if (checksum is not null && (aborted || full is not null || !CryptographicOperations.FixedTimeEquals(checksum.GetHashAndReset(), expected)))
            {
                sessions.Drop(upload.Id);
                file.Truncate(start);
                checksum.Dispose();
                return aborted ? Results.Empty
                    : full is not null ? Refused(context, full)
                    : Problem(context, 460, ErrorCodes.UploadChecksumMismatch, "Upload-Checksum does not match the bytes received; nothing was kept.");
            }

            if (full is not null)
            {
                sessions.Drop(upload.Id);
            }

            checksum?.Dispose();
            // Note: the bytes are on disk before the offset that acknowledges them is stored.
            file.FlushToDisk();
        }

        using (var commit = halts.TryBeginCommit(upload.ProjectId))
        {
            if (commit is null)
            {
                // Note: the bytes stay unacknowledged (past the stored offset, so the next PATCH cuts them off): nothing commits after a halt.
                return Halted(context);
            }

            upload.Offset = start + written;
            try
            {
                await database.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Note: the row went while the body arrived; only a project's termination removes an upload without its lock (the
                // termination hook, after a revocation or expiry). Nothing of this PATCH is kept, and the answer is the permit's.
                database.Entry(upload).State = EntityState.Detached;
                service.DeleteStaged(upload.Id);
                return await GoneAsync(context, upload);
            }
        }

        context.RequestServices.GetRequiredService<Monitoring.SpeMetrics>().UploadBytes(written);

        if (aborted)
        {
            return Results.Empty;
        }

        if (full is not null)
        {
            context.Response.Headers[TusHeaders.UploadOffset] = upload.Offset.ToString(CultureInfo.InvariantCulture);
            return Refused(context, full);
        }

        // Note: a partial upload's last byte completes nothing; the final upload that names it does (TusEndpoints.Concatenation).
        if (upload.Offset == upload.Length && !upload.Partial)
        {
            var completion = await service.CompleteAsync(upload, context.User, TraceIds.Current(context), CancellationToken.None);
            if (completion.Halted)
            {
                return Halted(context);
            }

            if (completion.Refusal is { } refusal)
            {
                return CompletionRefused(context, refusal, completion.Kept);
            }

            if (completion.File is null)
            {
                AuditDenialReason.Set(context, "ingest-" + completion.Result.Failure.ToString().ToLowerInvariant());
                return Problem(context, 422, ErrorCodes.UploadRejected, completion.Result.Detail + " The upload was discarded.");
            }

            context.Response.Headers[TusHeaders.UploadFileId] = completion.File.Id;
        }

        return null;
    }

    /// <summary>
    /// The caller's upload <paramref name="uploadId"/> of this project, or null. An expired one counts as gone; it is discarded
    /// here only when <paramref name="locked"/> (the caller holds its <see cref="UploadLocks"/> lock), else left to the sweep.
    /// </summary>
    private static async Task<UploadEntity?> FindAsync(HttpContext context, SpeDbContext database, UploadService service, string projectId, string uploadId, TimeProvider time, bool locked)
    {
        var upload = await database.Uploads.FirstOrDefaultAsync(u => u.Id == uploadId && u.ProjectId == projectId, context.RequestAborted);
        if (upload is null || upload.CreatedBy != context.User.FindFirst("sub")?.Value)
        {
            return null;
        }

        if (upload.ExpiresAt <= time.GetUtcNow())
        {
            if (locked)
            {
                using var commit = context.RequestServices.GetRequiredService<HaltRegistry>().TryBeginCommit(projectId);
                if (commit is not null)
                {
                    await service.DiscardAsync(upload, context.RequestAborted);
                }
            }

            return null;
        }

        return upload;
    }

    /// <summary>
    /// The answer for an upload whose row went while a PATCH ran (the project was terminated): the permit's refusal when the chain
    /// gives one now (403 <c>SPE3002</c> for a revoked or expired permit), else 404 as for any upload that is gone.
    /// </summary>
    private static async Task<IResult> GoneAsync(HttpContext context, UploadEntity upload)
    {
        var request = new AccessRequest(ProjectAccessSetup.PrincipalOf(context.User), upload.ProjectId, UploadService.CompletionAction, upload.DatasetId);
        if (await context.RequestServices.GetRequiredService<AccessChain>().DecideCommitAsync(request, CancellationToken.None) is { } refusal)
        {
            AuditDenialReason.Set(context, refusal.Reason);
            return Problem(context, refusal.Status, ProjectAccessSetup.CodeOf(refusal), refusal.Message + " The upload was discarded; nothing of it was kept.");
        }

        AuditDenialReason.Set(context, "upload-gone");
        return Problem(context, 404, ErrorCodes.NotFound, "The upload was removed while this request ran; nothing of it was kept.");
    }

    /// <summary>The answer for a completion the permit in force (or a file of the same name stored first) refused.</summary>
    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult CompletionRefused(HttpContext context, UploadRefusal refusal, bool kept)
    {
        AuditDenialReason.Set(context, refusal.Access.Reason);
        var what = kept
            ? " Nothing was stored and the upload is kept: once the permit is in force again, an empty PATCH at its end (a final upload: the final upload sent again) completes it."
            : " Nothing was stored and the upload was discarded.";
        return Problem(context, refusal.Status, refusal.Code, refusal.Access.Message + what);
    }

    private static IResult NoContentWithOffset(HttpContext context, UploadEntity upload)
    {
        SetTusHeader(context);
        context.Response.Headers[TusHeaders.UploadOffset] = upload.Offset.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[TusHeaders.UploadExpires] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        return Results.NoContent();
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? RefuseVersion(HttpContext context)
    {
        if (context.Request.Headers[TusHeaders.Resumable] == TusProtocol.Version)
        {
            return null;
        }

        context.Response.Headers[TusHeaders.Version] = TusProtocol.Version;
        return Problem(context, 412, ErrorCodes.TusVersionUnsupported, $"Send Tus-Resumable: {TusProtocol.Version}.");
    }

    private static Dictionary<string, string> ParseMetadata(string header)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split(' ', 2);
            try
            {
                result[parts[0]] = parts.Length == 2 ? TextRules.StrictUtf8.GetString(Convert.FromBase64String(parts[1])) : "";
            }
            catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
            {
                // A value that is not base64 (or not UTF-8) is treated as missing, and reported by the caller.
            }
        }

        return result;
    }

    private static void SetTusHeader(HttpContext context) => context.Response.Headers[TusHeaders.Resumable] = TusProtocol.Version;

    /// <summary>The 423 of a request that a halt of its project overtook: nothing of it was committed.</summary>
    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Halted(HttpContext context)
    {
        AuditDenialReason.Set(context, "halted");
        return Problem(context, 423, ErrorCodes.ProjectHalted, "This project was halted by an emergency stop while the request ran; nothing of it was kept. Nothing can be done until it is resumed.");
    }

    /// <summary>A quota or free-space refusal (413, 507).</summary>
    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Refused(HttpContext context, StorageRefusal refusal)
    {
        AuditDenialReason.Set(context, refusal.Reason);
        return Problem(context, refusal.Status, refusal.Code, refusal.Detail);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(HttpContext context, int status, string code, string detail)
    {
        SetTusHeader(context);
        return Problems.Of(status, detail, code);
    }
}
