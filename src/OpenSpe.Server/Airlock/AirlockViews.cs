using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Disclosure;
using OpenSpe.Server.Api;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Airlock;

/// <summary>Requests as the API shows them, and the audit details of their files (names and hashes, never content).</summary>
internal static class AirlockViews
{
    /// <summary>The view of a request.</summary>
    public static AirlockRequestView Of(AirlockRequestEntity request, IReadOnlyList<AirlockFileEntity> files, IReadOnlyList<AirlockReviewEntity> reviews)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ordered = files.OrderBy(f => f.Position).ToList();
        var status = ordered.Aggregate(DisclosureStatus.Pass, (s, f) => DisclosureStatusNames.Worst(s, Parse(f.CheckStatus)));
        return new AirlockRequestView(request.Id, request.ProjectId, request.Direction, request.State, request.RequestedByName, request.Reason, request.ReviewersRequired,
            ordered.Count == 0 ? "review" : status.ToName(),
            [.. ordered.Select(f => new AirlockFileView(f.Name, f.Size, f.Sha256, f.CheckStatus, JsonDocument.Parse(f.FindingsJson).RootElement.Clone(), f.State,
                ReviewRules.Approvals(reviews, f.Name), f.Placement, f.PlacementProblem))],
            [.. reviews.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal)
                .Select(r => new AirlockReviewView(r.FileName, r.ReviewerName, r.Decision, r.Comment, r.Override, r.CreatedAt))],
            request.CreatedAt, request.DecidedAt);
    }

    /// <summary>The findings of a file report as stored (the report's JSON shape).</summary>
    public static string FindingsJson(FileReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.Serialize(report.Findings.Select(f => new { rule = f.Rule, reason = f.Reason, positions = f.Positions }));
    }

    /// <summary>Audit details naming each file with its SHA-256 and size.</summary>
    public static Dictionary<string, string> HashDetails(IReadOnlyList<AirlockFileEntity> files, string? checkStatus = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var details = new Dictionary<string, string> { ["files"] = files.Count.ToString(CultureInfo.InvariantCulture) };
        foreach (var file in files)
        {
            details[$"file.{file.Position}"] = $"{file.Name} sha256={file.Sha256} size={file.Size} check={file.CheckStatus}";
        }

        if (checkStatus is not null)
        {
            details["check"] = checkStatus;
        }

        return details;
    }

    /// <summary>A project's requests of one direction, newest first.</summary>
    public static async Task<Ok<List<AirlockRequestView>>> ListAsync(SpeDbContext database, string? projectId, string direction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var requests = await database.AirlockRequests.AsNoTracking().Where(r => r.Direction == direction && (projectId == null || r.ProjectId == projectId)).ToListAsync(cancellationToken);
        var ids = requests.Select(r => r.Id).ToList();
        var files = (await database.AirlockFiles.AsNoTracking().Where(f => ids.Contains(f.RequestId)).ToListAsync(cancellationToken)).ToLookup(f => f.RequestId);
        var reviews = (await database.AirlockReviews.AsNoTracking().Where(r => ids.Contains(r.RequestId)).ToListAsync(cancellationToken)).ToLookup(r => r.RequestId);
        return TypedResults.Ok(requests.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id, StringComparer.Ordinal)
            .Select(r => Of(r, [.. files[r.Id]], [.. reviews[r.Id]])).ToList());
    }

    /// <summary>One request, or 404.</summary>
    public static async Task<Results<Ok<AirlockRequestView>, ProblemHttpResult>> ShowAsync(SpeDbContext database, string projectId, string direction, string requestId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var request = await database.AirlockRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == requestId && r.ProjectId == projectId && r.Direction == direction, cancellationToken);
        if (request is null)
        {
            return NotFound(direction, requestId);
        }

        var files = await database.AirlockFiles.AsNoTracking().Where(f => f.RequestId == requestId).ToListAsync(cancellationToken);
        var reviews = await database.AirlockReviews.AsNoTracking().Where(r => r.RequestId == requestId).ToListAsync(cancellationToken);
        return TypedResults.Ok(Of(request, files, reviews));
    }

    /// <summary>The 404 of a request this project does not have.</summary>
    public static ProblemHttpResult NotFound(string direction, string requestId) =>
        Problems.Of(StatusCodes.Status404NotFound, $"This project has no {direction} request {requestId}.", ErrorCodes.NotFound);

    private static DisclosureStatus Parse(string status) => status switch
    {
        "pass" => DisclosureStatus.Pass,
        "review" => DisclosureStatus.Review,
        _ => DisclosureStatus.Fail,
    };
}
