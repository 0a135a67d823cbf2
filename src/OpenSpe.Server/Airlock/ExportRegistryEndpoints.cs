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
/// <c>GET /api/v1/exports</c>: every export of every project with its files' hashes, check outcomes and decisions, for the HDAB
/// (EHDSR-13: the HDAB ensures by reviewing that no personal data leaves) and for output checkers, as their review queue.
/// Metadata only: no endpoint gives either a file.
/// </summary>
internal static class ExportRegistryEndpoints
{
    public static IEndpointRouteBuilder MapExportRegistryEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/exports", ListAsync).WithName("exports.all").WithTags("Airlock").RequireAuthorization(SpePolicies.ExportRegistryReaders)
            .WithMetadata(new AuditResourceAttribute("export")).ProducesSignedInProblems().RequireTraining(SpeRoles.Hdab, SpeRoles.OutputChecker)
            .WithSummary("Every export request across projects with its decisions (HDAB officers and output checkers; metadata, never content).");
        return routes;
    }

    private static Task<Ok<List<AirlockRequestView>>> ListAsync(string? projectId, SpeDbContext database, CancellationToken cancellationToken) =>
        AirlockViews.ListAsync(database, projectId, AirlockActions.Export, cancellationToken);
}
