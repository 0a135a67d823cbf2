using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// The tus concatenation extension. A partial upload (<c>Upload-Concat: partial</c>) names only its dataset; its bytes
/// complete nothing. A final upload (<c>Upload-Concat: final;URL...</c>) carries the metadata a plain upload carries at
/// creation (dataset, filename, plaintextSha256), names its finished partial uploads in order, and is verified and stored
/// at once: 201 with <c>Upload-File-Id</c>, or 422 when verification refuses it (its partial uploads are then discarded).
/// <c>concatenation-unfinished</c> is not offered: every partial upload must be complete.
/// </summary>
internal static partial class TusEndpoints
{
    /// <summary>Most partial uploads one final upload may name.</summary>
    private const int MaxPartials = 64;

    private static async Task<IResult> CreateFinalAsync(string projectId, string concat, HttpContext context, SpeDbContext database, AccessChain chain,
        UploadService service, UploadStaging staging, UploadStorage storage, HaltRegistry halts, IOptions<UploadOptions> options, TimeProvider time)
    {
        if (context.Request.Headers.ContainsKey(TusHeaders.UploadLength))
        {
            return Problem(context, 400, ErrorCodes.BadRequest, "A final upload's length is the sum of its partial uploads: send no Upload-Length.");
        }

        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            return Problem(context, 400, ErrorCodes.BadRequest, "A final upload takes no body: its bytes are in its partial uploads.");
        }

        var ids = PartialIds(projectId, concat[TusProtocol.ConcatFinalPrefix.Length..]);
        if (ids is null)
        {
            return Problem(context, 400, ErrorCodes.BadRequest,
                $"Upload-Concat: final; must list 1 to {MaxPartials} different partial uploads of this project by URL (/api/v1/projects/{projectId}/uploads/<id>), separated by spaces.");
        }

        var metadata = ReadMetadata(context, partial: false);
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

        // Note: the partial uploads' locks, taken in one order, keep their PATCHes, DELETEs and other finals out meanwhile.
        var held = new List<IDisposable>();
        try
        {
            foreach (var id in ids.Order(StringComparer.Ordinal))
            {
                held.Add(await UploadLocks.AcquireAsync(id, context.RequestAborted));
            }

            var partials = new List<UploadEntity>();
            foreach (var id in ids)
            {
                var upload = await FindAsync(context, database, service, projectId, id, time, locked: true);
                var problem = upload switch
                {
                    null => $"There is no partial upload {id} (concatenated already, terminated or expired).",
                    { Partial: false } => $"Upload {id} is not a partial upload (create those with Upload-Concat: partial).",
                    _ when upload.Offset != upload.Length => $"Partial upload {id} has {upload.Offset} of its {upload.Length} bytes: unfinished uploads cannot be concatenated.",
                    _ when upload.DatasetId != metadata.Dataset => $"Partial upload {id} was created for another dataset.",
                    _ => null,
                };
                if (problem is not null)
                {
                    AuditDenialReason.Set(context, "invalid-partial-upload");
                    return Problem(context, 400, ErrorCodes.BadRequest, problem);
                }

                partials.Add(upload!);
            }

            var length = partials.Sum(p => p.Length);
            if (length > options.Value.MaxUploadBytes)
            {
                return Refused(context, new StorageRefusal(413, ErrorCodes.UploadTooLarge, "upload-quota",
                    $"The partial uploads add up to {length} bytes, more than the largest upload accepted, {options.Value.MaxUploadBytes} bytes."));
            }

            UploadEntity whole;
            if (partials.Count == 1)
            {
                whole = partials[0];
            }
            else
            {
                // Note: the copy needs room of its own until the partial uploads are removed; never taken from the reserve.
                if (!storage.HasRoomFor(length))
                {
                    return Refused(context, UploadStorage.NoRoom(length));
                }

                var copy = await ConcatenateAsync(partials, database, staging, halts, options.Value, time);
                if (copy.Halted)
                {
                    return Halted(context);
                }

                if (copy.Refusal is { } refusal)
                {
                    return Refused(context, refusal);
                }

                whole = copy.Upload!;
            }

            whole.Filename = metadata.Filename!;
            whole.PlaintextSha256 = metadata.PlaintextSha256!;
            whole.Partial = false;
            var copied = partials.Count > 1;
            if (copied)
            {
                // Note: removed in the same commit as the file's row (inside CompleteAsync), so a crash never leaves both the file
                // and partial uploads that a retried final would store a second time. Their bytes are in the verified file, or in a
                // refused one that no retry could make pass.
                database.Uploads.RemoveRange(partials);
            }

            UploadCompletion completion;
            try
            {
                completion = await service.CompleteAsync(whole, context.User, TraceIds.Current(context), CancellationToken.None);
            }
            catch when (copied)
            {
                // The partial uploads stay for a retry; the copy of their bytes goes now rather than at its expiry.
                foreach (var partial in partials)
                {
                    database.Entry(partial).State = Microsoft.EntityFrameworkCore.EntityState.Unchanged;
                }

                await service.TryDiscardAsync(whole);
                throw;
            }

            if (completion.Halted || completion.Kept)
            {
                // Note: nothing was committed; the partial uploads stay as they were, and the copy's row is left for the sweep
                // (no row of a halted project changes), only its bytes go now. The same when the permit is not in force at
                // completion (suspended): the final upload is sent again once it is.
                database.ChangeTracker.Clear();
                if (copied)
                {
                    service.DeleteStaged(whole.Id);
                }

                return completion.Halted ? Halted(context) : CompletionRefused(context, completion.Refusal!, kept: true);
            }

            if (copied)
            {
                foreach (var partial in partials)
                {
                    service.DeleteStaged(partial.Id);
                }
            }

            if (completion.Refusal is { } refused)
            {
                // The permit refused it at completion, or a file of the name was stored first: it and its partial uploads are gone.
                return CompletionRefused(context, refused, kept: false);
            }

            var stored = completion.File;
            if (stored is null)
            {
                AuditDenialReason.Set(context, "ingest-" + completion.Result.Failure.ToString().ToLowerInvariant());
                return Problem(context, 422, ErrorCodes.UploadRejected, completion.Result.Detail + " The upload and its partial uploads were discarded.");
            }

            SetTusHeader(context);
            var headers = context.Response.Headers;
            headers.Location = $"/api/v1/projects/{projectId}/uploads/{NewUploadId()}";
            headers[TusHeaders.UploadConcat] = TusProtocol.ConcatFinalPrefix + string.Join(' ', ids.Select(id => $"/api/v1/projects/{projectId}/uploads/{id}"));
            headers[TusHeaders.UploadLength] = length.ToString(CultureInfo.InvariantCulture);
            headers[TusHeaders.UploadOffset] = length.ToString(CultureInfo.InvariantCulture);
            headers[TusHeaders.UploadFileId] = stored.Id;
            return Results.StatusCode(201);
        }
        finally
        {
            foreach (var lease in held)
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>The upload ids of a final upload's list of partial-upload URLs (absolute or relative), or null when the list is malformed.</summary>
    private static List<string>? PartialIds(string projectId, string list)
    {
        var prefix = $"/api/v1/projects/{projectId}/uploads/";
        var ids = new List<string>();
        foreach (var item in list.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(item, UriKind.RelativeOrAbsolute, out var uri))
            {
                return null;
            }

            // Note: only the path counts; the id is then looked up among this caller's uploads of this project, like any other.
            var path = uri.IsAbsoluteUri ? uri.AbsolutePath : item;
            if (!path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return null;
            }

            var id = path[prefix.Length..];
            if (!UploadStaging.IsUploadId(id) || ids.Contains(id))
            {
                return null;
            }

            ids.Add(id);
        }

        return ids.Count is > 0 and <= MaxPartials ? ids : null;
    }

    /// <summary>
    /// Copies several finished partial uploads, in order, into the staging file of a new (complete) upload, so completion
    /// verifies and stores one file; the partial uploads stay until the caller discards them. Refused (and the copy removed)
    /// when the disk fills up or the project is halted meanwhile.
    /// </summary>
    private static async Task<(UploadEntity? Upload, StorageRefusal? Refusal, bool Halted)> ConcatenateAsync(List<UploadEntity> partials, SpeDbContext database, UploadStaging staging,
        HaltRegistry halts, UploadOptions options, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var first = partials[0];
        var whole = new UploadEntity
        {
            Id = NewUploadId(),
            ProjectId = first.ProjectId,
            DatasetId = first.DatasetId,
            Length = partials.Sum(p => p.Length),
            CreatedBy = first.CreatedBy,
            CreatedAt = now,
            ExpiresAt = now + options.Expiration,
        };
        staging.Create(whole.Id);
        try
        {
            await using (var output = new FileStream(staging.PathOf(whole.Id), FileMode.Open, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                foreach (var partial in partials)
                {
                    await using var input = new FileStream(staging.PathOf(partial.Id), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    // Note: only the acknowledged bytes; anything past the offset is an interrupted write's.
                    await CopyExactlyAsync(input, output, partial.Length);
                }

                await output.FlushAsync();
                output.Flush(flushToDisk: true);
            }

            using var commit = halts.TryBeginCommit(whole.ProjectId);
            if (commit is null)
            {
                staging.Delete(whole.Id);
                return (null, null, true);
            }

            whole.Offset = whole.Length;
            database.Uploads.Add(whole);
            await database.SaveChangesAsync(CancellationToken.None);
            return (whole, null, false);
        }
        catch (IOException ex) when (UploadStorage.IsDiskFull(ex))
        {
            // A failed copy leaves no staging file behind.
            staging.Delete(whole.Id);
            return (null, UploadStorage.NoRoom(whole.Length), false);
        }
        catch
        {
            database.Entry(whole).State = Microsoft.EntityFrameworkCore.EntityState.Detached;
            staging.Delete(whole.Id);
            throw;
        }
    }

    private static async Task CopyExactlyAsync(Stream input, Stream output, long count)
    {
        var buffer = new byte[1 << 20];
        while (count > 0)
        {
            var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)));
            if (read == 0)
            {
                throw new IOException("A partial upload's staging file is shorter than its acknowledged offset.");
            }

            await output.WriteAsync(buffer.AsMemory(0, read));
            count -= read;
        }
    }

    /// <summary>What <see cref="ReadMetadata"/> found: the values, or the refusal to answer with.</summary>
    private sealed record UploadMetadata(string Dataset, string? Filename, string? PlaintextSha256, IResult? Refusal);
}
