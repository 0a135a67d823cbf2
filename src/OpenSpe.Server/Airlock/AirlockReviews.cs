using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// An output checker's decision on an export or import request (EHDSR-13, SPER-3): judged by <see cref="ReviewRules"/>,
/// stored, audited with the files' hashes; an approved import file is then placed, read-only, in <c>/project/imports</c>.
/// </summary>
/// <remarks>
/// Note: the access chain has already admitted the caller as an independent reviewer (an output checker named in no role of
/// the permit, the project not halted, the permit in force), so a halted, suspended, revoked or expired project's pending
/// requests cannot be decided: they are frozen until the permit is in force again.
/// </remarks>
internal sealed class AirlockReviews(SpeDbContext database, FrozenFiles frozen, IProjectFiles projectFiles, DataDirectory data, TimeProvider time, IAuditLog audit,
    ILogger<AirlockReviews> logger)
{
    public async Task<Results<Ok<AirlockRequestView>, ProblemHttpResult, ValidationProblem>> DecideAsync(HttpContext context, string projectId, string direction,
        string requestId, AirlockReviewRequest review)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(review);
        var request = await database.AirlockRequests.FirstOrDefaultAsync(r => r.Id == requestId && r.ProjectId == projectId && r.Direction == direction, context.RequestAborted);
        if (request is null)
        {
            return AirlockViews.NotFound(direction, requestId);
        }

        var all = await database.AirlockFiles.Where(f => f.RequestId == requestId).OrderBy(f => f.Position).ToListAsync(context.RequestAborted);
        var reviews = await database.AirlockReviews.AsNoTracking().Where(r => r.RequestId == requestId).ToListAsync(context.RequestAborted);
        List<AirlockFileEntity> decided;
        if (review.File is { } name)
        {
            var file = all.FirstOrDefault(f => f.Name == name);
            if (file is null)
            {
                return Problems.Of(StatusCodes.Status404NotFound, $"Request {requestId} has no file '{name}'.", ErrorCodes.NotFound);
            }

            decided = [file];
        }
        else
        {
            decided = [.. all.Where(f => f.State == AirlockStates.Pending)];
        }

        var reviewerId = context.User.FindFirst("sub")?.Value ?? "";
        if (ReviewRules.Refuse(request, decided, reviews, reviewerId, review.Decision, review.Override) is { } refusal)
        {
            var (status, code, reason) = refusal.Kind switch
            {
                ReviewRefusalKind.OwnRequest => (StatusCodes.Status403Forbidden, ErrorCodes.AirlockOwnRequest, "own-request"),
                ReviewRefusalKind.OverrideRequired => (StatusCodes.Status422UnprocessableEntity, ErrorCodes.AirlockOverrideRequired, "override-required"),
                _ => (StatusCodes.Status409Conflict, ErrorCodes.AirlockNotPending, "not-pending"),
            };
            AuditDenialReason.Set(context, reason);
            return Problems.Of(status, refusal.Message, code);
        }

        var now = time.GetUtcNow();
        var added = decided.Select(f => new AirlockReviewEntity
        {
            Id = "rev-" + RandomNumberGenerator.GetHexString(20, lowercase: true),
            RequestId = requestId,
            FileName = f.Name,
            ReviewerId = reviewerId,
            ReviewerName = context.User.FindFirst("preferred_username")?.Value ?? "",
            Decision = review.Decision,
            Comment = review.Comment,
            Override = review.Decision == ReviewRules.Approve && f.CheckStatus == "fail" ? review.Override : null,
            CreatedAt = now,
        }).ToList();
        var before = decided.ToDictionary(f => f.Name, f => f.State, StringComparer.Ordinal);
        ReviewRules.Apply(request, decided, all, [.. reviews, .. added], review.Decision, now);
        database.AirlockReviews.AddRange(added);
        await database.SaveChangesAsync(CancellationToken.None);

        var actor = AuditActors.From(context.User, context);
        var trace = TraceIds.Current(context);
        foreach (var (file, entry) in decided.Zip(added))
        {
            var details = new Dictionary<string, string>
            {
                ["file"] = file.Name,
                ["sha256"] = file.Sha256,
                ["decision"] = entry.Decision,
                ["check"] = file.CheckStatus,
                ["state"] = file.State,
            };
            if (entry.Override is not null)
            {
                details["override"] = "true";
            }

            await audit.AppendAsync(new AuditEntry(actor, $"{direction}.reviewed", new AuditResource(direction, requestId, projectId), AuditOutcome.Success,
                StatusCodes.Status200OK, trace, details), CancellationToken.None);
            if (file.State != before[file.Name] && file.State != AirlockStates.Pending)
            {
                await audit.AppendAsync(new AuditEntry(actor, file.State == AirlockStates.Approved ? $"{direction}.released" : $"{direction}.rejected",
                    new AuditResource(direction, requestId, projectId), AuditOutcome.Success, StatusCodes.Status200OK, trace,
                    new Dictionary<string, string> { ["file"] = file.Name, ["sha256"] = file.Sha256 }), CancellationToken.None);
                if (direction == AirlockActions.Import && file.State == AirlockStates.Approved)
                {
                    await PlaceAsync(projectId, requestId, file, actor, trace);
                }
            }
        }

        if (decided.Any(f => f.Placement is not null))
        {
            await database.SaveChangesAsync(CancellationToken.None);
        }

        AirlockLog.Reviewed(logger, direction, requestId, review.Decision, added.Count);
        return TypedResults.Ok(AirlockViews.Of(request, all, [.. reviews, .. added]));
    }

    /// <summary>
    /// Places again the request's approved files whose placement failed (the cause, such as a symlink planted at
    /// <c>/project/imports</c>, is gone): the same reviewed bytes, checked against the same SHA-256, so nothing new comes in.
    /// </summary>
    public async Task<Results<Ok<AirlockRequestView>, ProblemHttpResult>> PlaceAgainAsync(HttpContext context, string projectId, string requestId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = await database.AirlockRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.Id == requestId && r.ProjectId == projectId && r.Direction == AirlockActions.Import, context.RequestAborted);
        if (request is null)
        {
            return AirlockViews.NotFound(AirlockActions.Import, requestId);
        }

        var all = await database.AirlockFiles.Where(f => f.RequestId == requestId).OrderBy(f => f.Position).ToListAsync(context.RequestAborted);
        var waiting = all.Where(f => f.State == AirlockStates.Approved && f.Placement != AirlockPlacements.Placed).ToList();
        if (waiting.Count == 0)
        {
            AuditDenialReason.Set(context, "nothing-to-place");
            return Problems.Of(StatusCodes.Status409Conflict,
                $"Import request {requestId} has no approved file waiting to be placed: every approved file is in /project/imports/{requestId}/ already, or none is approved.",
                ErrorCodes.AirlockNothingToPlace);
        }

        if (!projectFiles.Availability.IsAvailable)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "This server cannot reach workspace files: " + projectFiles.Availability.Reason + ".", ErrorCodes.AirlockUnavailable);
        }

        var actor = AuditActors.From(context.User, context);
        var trace = TraceIds.Current(context);
        foreach (var file in waiting)
        {
            await PlaceAsync(projectId, requestId, file, actor, trace);
        }

        await database.SaveChangesAsync(CancellationToken.None);
        var reviews = await database.AirlockReviews.AsNoTracking().Where(r => r.RequestId == requestId).ToListAsync(CancellationToken.None);
        return TypedResults.Ok(AirlockViews.Of(request, all, reviews));
    }

    /// <summary>
    /// Places an approved import file and records the outcome on <paramref name="file"/> (saved by the caller): placed, or failed
    /// with the reason in words, so the request shows what happened and a member can ask again.
    /// </summary>
    private async Task PlaceAsync(string projectId, string requestId, AirlockFileEntity file, AuditActor actor, string? trace)
    {
        // Note: the frozen copy is decrypted and hashed again on its way in: what lands in /project/imports is exactly what
        // was reviewed, or nothing (the partial file is left unreadable to nobody but root, and the failure is audited). It is
        // decrypted to a private spool first (the server's data directory, 0700, removed on close), because an import may be
        // hundreds of MiB and only bytes whose hash matched may reach the project.
        await using var buffer = Spool();
        var actual = await frozen.ReadAsync(projectId, file.ObjectKey, buffer, CancellationToken.None);
        if (!string.Equals(actual, file.Sha256, StringComparison.Ordinal))
        {
            Failed(file, "The frozen copy no longer has the SHA-256 it was reviewed with, so nothing was placed. Tell the operator: the object store may be damaged.");
            await audit.AppendAsync(new AuditEntry(actor, "import.integrity-failed", new AuditResource("import", requestId, projectId), AuditOutcome.Error, null, trace,
                new Dictionary<string, string> { ["file"] = file.Name, ["frozen"] = file.Sha256, ["actual"] = actual }), CancellationToken.None);
            return;
        }

        buffer.Position = 0;
        string reason;
        try
        {
            var placed = await projectFiles.PlaceImportAsync(projectId, requestId, file.Name, buffer, CancellationToken.None);
            if (string.Equals(placed.Sha256, file.Sha256, StringComparison.Ordinal))
            {
                file.Placement = AirlockPlacements.Placed;
                file.PlacementProblem = null;
                await audit.AppendAsync(new AuditEntry(actor, "import.placed", new AuditResource("import", requestId, projectId), AuditOutcome.Success, null, trace,
                    new Dictionary<string, string> { ["file"] = file.Name, ["sha256"] = placed.Sha256, ["path"] = $"/project/imports/{requestId}/{file.Name}" }), CancellationToken.None);
                return;
            }

            Failed(file, $"/project/imports/{requestId}/{file.Name} holds other bytes than were reviewed (SHA-256 {placed.Sha256}). Tell the operator.");
            reason = "Mismatch";
        }
        catch (ProjectFileException e)
        {
            Failed(file, e.Message + " Nothing was placed; remove the cause and ask again.");
            reason = e.Error.ToString();
        }
        catch (IOException)
        {
            // Note: an I/O error (a full disk) names host paths in its message; the person gets words, the log the kind.
            Failed(file, "The project's files could not be written (the disk may be full). Nothing was placed; ask again later or tell the operator.");
            reason = "IOError";
        }

        AirlockLog.PlacementFailed(logger, requestId, reason);
        await audit.AppendAsync(new AuditEntry(actor, "import.placement-failed", new AuditResource("import", requestId, projectId), AuditOutcome.Error, null, trace,
            new Dictionary<string, string> { ["file"] = file.Name, ["reason"] = reason }), CancellationToken.None);
    }

    private FileStream Spool()
    {
        return new FileStream(Path.Combine(AirlockWorkSweep.Ensure(data), "place-" + RandomNumberGenerator.GetHexString(16, lowercase: true)), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
    }

    private static void Failed(AirlockFileEntity file, string problem)
    {
        file.Placement = AirlockPlacements.Failed;
        file.PlacementProblem = problem.Length <= 500 ? problem : problem[..500];
    }
}
