using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// <c>GET /api/v1/imports</c>: every import request across projects with its files' hashes, type checks and decisions, for output
/// checkers, as their queue of imports to review (SPER-3). Metadata only: a checker reads a pending file's content through the
/// project-scoped previews (<see cref="AirlockPreviewEndpoints"/>, <c>GET /api/v1/projects/{projectId}/imports/{requestId}/files/{name}/preview</c>
/// and <c>/image</c>), which the access chain admits for <see cref="AirlockActions.ImportReview"/> only.
/// </summary>
/// <remarks>
/// Note: the queue needs its own route because a checker named in no role of a permit cannot list that project (the project
/// listing shows a caller only the projects naming them), so the per-project routes alone leave them nothing to start from.
/// Unlike the export registry, HDAB officers are not admitted: no requirement gives them imports, and the per-project routes
/// hide imports from every oversight role.
/// Note: no content here, because this route is not project-scoped: the access chain (membership, halt, permit in force,
/// independence) does not judge it per project, so it must not be a way to any project's bytes.
/// </remarks>
internal static class ImportQueueEndpoints
{
    public static IEndpointRouteBuilder MapImportQueueEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/imports", ListAsync).WithName("imports.all").WithTags("Airlock").RequireAuthorization(SpePolicies.OutputChecker)
            .WithMetadata(new AuditResourceAttribute("import")).ProducesSignedInProblems().RequireTraining(SpeRoles.OutputChecker)
            .WithSummary("Every import request across projects with its decisions (output checkers, as their review queue; metadata, never content: each file's preview is under its project's route).");
        return routes;
    }

    private static Task<Ok<List<AirlockRequestView>>> ListAsync(SpeDbContext database, CancellationToken cancellationToken) =>
        AirlockViews.ListAsync(database, null, AirlockActions.Import, cancellationToken);
}
