using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Operations.Training;

/// <summary>
/// <c>/api/v1/training</c> (OPR-23): HDAB officers and admins record a person's role-specific training; they and auditors
/// read the records. The access chain's training step reads them (<see cref="TrainingRecords"/>).
/// </summary>
internal static class TrainingEndpoints
{
    private const string DateFormat = "yyyy-MM-dd";

    /// <summary>How far back a completion may be recorded.</summary>
    private const int OldestCompletionYears = 20;

    /// <summary>Maps the training endpoints.</summary>
    public static IEndpointRouteBuilder MapTrainingEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/training").WithTags("Operations").RequireAuthorization(SpePolicies.TrainingReaders)
            .WithMetadata(new AuditResourceAttribute("training")).ProducesSignedInProblems();
        group.MapPost("", RecordAsync).WithName("training.record").RequireAuthorization(SpePolicies.TrainingRecorders).Validate<TrainingRecordRequest>().ProducesProblems(404)
            .WithSummary("Records a person's completed role-specific training (HDAB officer or admin; never one's own).");
        group.MapGet("", ListAsync).WithName("training.list").ProducesProblems(400, 404)
            .WithSummary("Training records, all or of one account (?account=name), with their status today.");
        return routes;
    }

    private static async Task<Results<Created<TrainingRecordView>, ValidationProblem, ProblemHttpResult>> RecordAsync(TrainingRecordRequest request, HttpContext context, SpeDbContext database,
        UserManager<SpeUser> users, TimeProvider time, IAuditLog audit, ILogger<TrainingRecordEntity> logger, CancellationToken cancellationToken)
    {
        var today = Today(time);
        if (!SpeRoles.All.Contains(request.Role))
        {
            return Problems.Invalid("role", "Must be one of: " + string.Join(", ", SpeRoles.All) + ".");
        }

        if (!TryParseDate(request.Completed, out var completed) || completed > today || completed < today.AddYears(-OldestCompletionYears))
        {
            return Problems.Invalid("completed", $"Must be a date ({DateFormat}) not in the future nor more than {OldestCompletionYears} years ago.");
        }

        DateOnly? expires = null;
        if (request.Expires is not null)
        {
            if (!TryParseDate(request.Expires, out var parsed) || parsed <= completed)
            {
                return Problems.Invalid("expires", $"Must be a date ({DateFormat}) after the completion date.");
            }

            expires = parsed;
        }

        var user = await users.FindByNameAsync(request.Account);
        if (user is null)
        {
            return Problems.Of(404, $"There is no account '{request.Account}'.");
        }

        if (user.Id == context.User.FindFirst("sub")?.Value)
        {
            // Note: nobody vouches for their own training, because the record is what lets them in (separation of duties).
            AuditDenialReason.Set(context, "own-training");
            return Problems.Of(403, "You cannot record your own training: ask another HDAB officer or an admin.", ErrorCodes.TrainingOwnRecord);
        }

        var recordedBy = context.User.FindFirst("preferred_username")?.Value ?? context.User.FindFirst("sub")?.Value ?? "";
        var entity = new TrainingRecordEntity
        {
            AccountId = user.Id,
            Role = request.Role,
            Course = request.Course,
            CompletedOn = completed,
            ExpiresOn = expires,
            RecordedBy = recordedBy,
            RecordedAt = time.GetUtcNow(),
        };
        database.Add(entity);
        await database.SaveChangesAsync(cancellationToken);
        var completedText = Format(completed);
        var expiresText = expires is { } e ? Format(e) : "never";
        TrainingLog.Recorded(logger, user.Id, entity.Role, completedText, expiresText, recordedBy);
        // Note: the record is saved, so its audit entry is written even if the caller has gone.
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "training.recorded", new AuditResource("training", entity.Id.ToString(CultureInfo.InvariantCulture), null),
            AuditOutcome.Success, null, TraceIds.Current(context), new Dictionary<string, string>
            {
                ["account"] = user.Id,
                ["role"] = entity.Role,
                ["course"] = entity.Course,
                ["completed"] = completedText,
                ["expires"] = expiresText,
            }), CancellationToken.None);
        return TypedResults.Created($"/api/v1/training?account={Uri.EscapeDataString(user.UserName ?? "")}", View(entity, user.UserName ?? "", today));
    }

    private static async Task<Results<Ok<List<TrainingRecordView>>, ValidationProblem, ProblemHttpResult>> ListAsync(string? account, SpeDbContext database, UserManager<SpeUser> users,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var query = database.Set<TrainingRecordEntity>().AsNoTracking();
        if (account is not null)
        {
            // Note: an account name is 1 to 256 characters; anything else is a malformed filter, not an unknown account, and is
            // never echoed back.
            if (account.Length is 0 or > 256)
            {
                return Problems.Invalid("account", "Give an account name of 1 to 256 characters, or leave the filter out for all records.");
            }

            var user = await users.FindByNameAsync(account);
            if (user is null)
            {
                return Problems.Of(404, $"There is no account '{account}'.");
            }

            query = query.Where(r => r.AccountId == user.Id);
        }

        var records = await query.OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var ids = records.Select(r => r.AccountId).Distinct().ToList();
        var names = await users.Users.Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.UserName ?? "", cancellationToken);
        var today = Today(time);
        return TypedResults.Ok(records.Select(r => View(r, names.GetValueOrDefault(r.AccountId, ""), today)).ToList());
    }

    private static TrainingRecordView View(TrainingRecordEntity r, string account, DateOnly today) =>
        new(r.Id, account, r.AccountId, r.Role, r.Course, Format(r.CompletedOn), r.ExpiresOn is { } e ? Format(e) : null, r.StatusOn(today), r.RecordedBy, r.RecordedAt);

    private static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    private static bool TryParseDate(string text, out DateOnly date) =>
        DateOnly.TryParseExact(text, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    private static string Format(DateOnly date) => date.ToString(DateFormat, CultureInfo.InvariantCulture);
}
