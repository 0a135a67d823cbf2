using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Emergency halt (OPR-20): operators and HDAB officers stop one project or everything; the next
/// project-scoped request gets 423. A halt is lifted by a different person than the one who
/// started it (two-person rule), or by an HDAB officer.
/// </summary>
internal static class HaltEndpoints
{
    /// <summary>Maps <c>/api/v1/halts</c>.</summary>
    public static IEndpointRouteBuilder MapHaltEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/halts").WithTags("Operations").RequireAuthorization(SpePolicies.HaltOperators).WithMetadata(new AuditResourceAttribute("halt"))
            .ProducesSignedInProblems();
        group.MapPost("", HaltAsync).WithName("halts.create").Validate<HaltRequest>().ProducesProblems(404)
            .WithSummary("Halts a project, or everything when projectId is null: every project-scoped request answers 423 at once.");
        group.MapGet("", ListAsync).WithName("halts.list").WithSummary("Halts in force.");
        group.MapPost("/resume", ResumeAsync).WithName("halts.resume").Validate<ResumeRequest>().ProducesProblems(404)
            .WithSummary("Lifts the halts of a project (or of everything); not by the person who halted, unless HDAB.");
        return routes;
    }

    private static async Task<Results<Created<HaltView>, ProblemHttpResult>> HaltAsync(HaltRequest request, HttpContext context, SpeDbContext database, HaltRegistry halts, UserManager<SpeUser> users, TimeProvider time, IAuditLog audit)
    {
        if (request.ProjectId is not null && !await database.Permits.AnyAsync(p => p.ProjectId == request.ProjectId))
        {
            return Problems.Of(404, "There is no such project.");
        }

        var halt = (await StartAsync([request.ProjectId], request.Reason, context, database, halts, time, audit))[0];
        return TypedResults.Created($"/api/v1/halts/{halt.Id}", await ViewAsync(halt, users));
    }

    /// <summary>
    /// Starts one halt per scope (a project id, or null for everything) in one commit, makes them take effect at once and
    /// records each; the incidents module halts an incident's projects through here too.
    /// </summary>
    internal static async Task<IReadOnlyList<HaltEntity>> StartAsync(IReadOnlyList<string?> scopes, string reason, HttpContext context, SpeDbContext database, HaltRegistry halts, TimeProvider time, IAuditLog audit)
    {
        var started = scopes.Select(scope => new HaltEntity
        {
            Id = "halt-" + Guid.NewGuid().ToString("N")[..16],
            ProjectId = scope,
            Reason = reason,
            HaltedBy = context.User.FindFirst("sub")?.Value ?? "",
            HaltedAt = time.GetUtcNow(),
        }).ToList();
        database.Halts.AddRange(started);
        await database.SaveChangesAsync();
        await halts.ReloadAsync(database);
        foreach (var halt in started)
        {
            await AuditAsync(audit, context, "halt.started", halt);
            await AuditAsync(audit, context, "security.alert", halt, "emergency-halt");
        }

        return started;
    }

    private static async Task<Ok<List<HaltView>>> ListAsync(SpeDbContext database, UserManager<SpeUser> users)
    {
        var active = await database.Halts.Where(h => h.ResumedAt == null).ToListAsync();
        var views = new List<HaltView>();
        foreach (var halt in active.OrderBy(h => h.HaltedAt))
        {
            views.Add(await ViewAsync(halt, users));
        }

        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<ResumeView>, ProblemHttpResult>> ResumeAsync(ResumeRequest request, HttpContext context, SpeDbContext database, HaltRegistry halts, TimeProvider time, IAuditLog audit)
    {
        var targets = await database.Halts.Where(h => h.ResumedAt == null && h.ProjectId == request.ProjectId).ToListAsync();
        if (targets.Count == 0)
        {
            return Problems.Of(404, "No halt is in force for this scope.");
        }

        var me = context.User.FindFirst("sub")?.Value;
        if (!context.User.IsInRole(SpeRoles.Hdab) && targets.Any(h => h.HaltedBy == me))
        {
            // Note: the two-person rule (OPR-20): whoever stopped the SPE cannot alone decide that it is safe again.
            AuditDenialReason.Set(context, "two-person-rule");
            return Problems.Of(403, "A different person (or an HDAB officer) must lift a halt you started.", ErrorCodes.TwoPersonRule);
        }

        foreach (var halt in targets)
        {
            halt.ResumedAt = time.GetUtcNow();
            halt.ResumedBy = me;
        }

        await database.SaveChangesAsync();
        await halts.ReloadAsync(database);
        foreach (var halt in targets)
        {
            await AuditAsync(audit, context, "halt.lifted", halt);
        }

        return TypedResults.Ok(new ResumeView(targets.Select(h => h.Id).ToList()));
    }

    private static async Task<HaltView> ViewAsync(HaltEntity halt, UserManager<SpeUser> users) =>
        new(halt.Id, halt.ProjectId is null ? "all" : "project", halt.ProjectId, halt.Reason, (await users.FindByIdAsync(halt.HaltedBy))?.UserName ?? halt.HaltedBy, halt.HaltedAt);

    private static Task<long> AuditAsync(IAuditLog audit, HttpContext context, string action, HaltEntity halt, string? kind = null)
    {
        var details = new Dictionary<string, string> { ["halt"] = halt.Id, ["scope"] = halt.ProjectId ?? "all", ["reason"] = halt.Reason };
        if (kind is not null)
        {
            details["kind"] = kind;
        }

        return audit.AppendAsync(new AuditEntry(
            AuditActors.From(context.User, context),
            action, new AuditResource("halt", halt.Id, halt.ProjectId), AuditOutcome.Success, null, TraceIds.Current(context), details));
    }
}
