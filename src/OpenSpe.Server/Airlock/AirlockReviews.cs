using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
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
internal sealed class AirlockReviews(SpeDbContext database, FrozenFiles frozen, IProjectFiles projectFiles, TimeProvider time, IAuditLog audit, ILogger<AirlockReviews> logger)
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

        AirlockLog.Reviewed(logger, direction, requestId, review.Decision, added.Count);
        return TypedResults.Ok(AirlockViews.Of(request, all, [.. reviews, .. added]));
    }

    private async Task PlaceAsync(string projectId, string requestId, AirlockFileEntity file, AuditActor actor, string? trace)
    {
        // Note: the frozen copy is decrypted and hashed again on its way in: what lands in /project/imports is exactly what
        // was reviewed, or nothing (the partial file is left unreadable to nobody but root, and the failure is audited).
        using var buffer = new MemoryStream();
        var actual = await frozen.ReadAsync(projectId, file.ObjectKey, buffer, CancellationToken.None);
        if (!string.Equals(actual, file.Sha256, StringComparison.Ordinal))
        {
            await audit.AppendAsync(new AuditEntry(actor, "import.integrity-failed", new AuditResource("import", requestId, projectId), AuditOutcome.Error, null, trace,
                new Dictionary<string, string> { ["file"] = file.Name, ["frozen"] = file.Sha256, ["actual"] = actual }), CancellationToken.None);
            return;
        }

        buffer.Position = 0;
        try
        {
            var placed = await projectFiles.PlaceImportAsync(projectId, requestId, file.Name, buffer, CancellationToken.None);
            await audit.AppendAsync(new AuditEntry(actor, "import.placed", new AuditResource("import", requestId, projectId), AuditOutcome.Success, null, trace,
                new Dictionary<string, string> { ["file"] = file.Name, ["sha256"] = placed.Sha256, ["path"] = $"/project/imports/{requestId}/{file.Name}" }), CancellationToken.None);
        }
        catch (ProjectFileException e)
        {
            AirlockLog.PlacementFailed(logger, requestId, e.Error.ToString());
            await audit.AppendAsync(new AuditEntry(actor, "import.placement-failed", new AuditResource("import", requestId, projectId), AuditOutcome.Error, null, trace,
                new Dictionary<string, string> { ["file"] = file.Name, ["reason"] = e.Error.ToString() }), CancellationToken.None);
        }
    }
}
