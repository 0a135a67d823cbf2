using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Access;
using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// Projects under <c>/api/v1/projects</c>. The listing shows each caller only the projects whose
/// permit names them (oversight roles see metadata of all); everything under
/// <c>/api/v1/projects/{projectId}</c> passes the <see cref="ProjectAccessGate"/>.
/// </summary>
internal static class ProjectEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapProjectEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/projects").WithTags("Projects").WithMetadata(new AuditResourceAttribute("project"));
        // Note: the {projectId} routes go through the access chain, so they declare its refusals (404 hidden, 423 halted, 503 halts unread).
        group.MapGet("", ListAsync).WithName("projects.list").RequireAuthorization(SpePolicies.HumanOrClient).ProducesSignedInProblems()
            .WithSummary("Projects the caller belongs to (HDAB, operators and auditors: metadata of all), each saying whether it is halted.");
        group.MapGet("/{projectId}", ShowAsync).WithName("projects.show").RequireAuthorization(SpePolicies.HumanOrClient).ProducesProjectProblems()
            .WithMetadata(new ProjectActionAttribute("project.show", SpeRoles.Researcher, SpeRoles.DataHolder, PermitRoles.Application) { Oversight = true })
            .WithSummary("A project's metadata: permit, members, datasets (members see each other, SPER-5), and whether it is halted (HDAB, operators and auditors see a halted project; members get 423).");
        group.MapGet("/{projectId}/datasets", DatasetsAsync).WithName("projects.datasets.list").RequireAuthorization(SpePolicies.HumanOrClient).ProducesProjectProblems()
            .WithMetadata(new ProjectActionAttribute("project.datasets.list", SpeRoles.Researcher, SpeRoles.DataHolder, PermitRoles.Application))
            .WithSummary("The datasets the project's permit names.");
        return routes;
    }

    private static async Task<Results<Ok<List<ProjectSummary>>, ProblemHttpResult>> ListAsync(HttpContext context, PermitService permits, HaltRegistry halts, CancellationToken cancellationToken)
    {
        var principal = ProjectAccessSetup.PrincipalOf(context.User);
        var visible = await permits.VisibleAsync(principal, cancellationToken);
        // Note: the training step (OPR-23) as for each project on its own: a project listed only where the person may open it
        // in the role they have there; when training hides every one, the refusal says why instead of an empty list.
        var refusals = new Dictionary<string, AccessRefusal?>(StringComparer.Ordinal);
        var shown = new List<ProjectSummary>();
        AccessRefusal? hiding = null;
        foreach (var v in visible)
        {
            var roles = v.Roles.Order(StringComparer.Ordinal).ToList();
            IReadOnlyCollection<string> acting = roles.Count > 0 ? roles : [.. SpeRoles.Oversight.Where(principal.Roles.Contains)];
            var key = string.Join(' ', acting);
            if (!refusals.TryGetValue(key, out var refusal))
            {
                refusal = await CrossProjectTraining.RefusalAsync(context, principal, acting);
                refusals[key] = refusal;
            }

            if (refusal is not null)
            {
                hiding ??= refusal;
                continue;
            }

            shown.Add(new ProjectSummary(v.Permit.ProjectId, v.Permit.Id, v.Permit.Reference, v.Permit.Title, v.Permit.State,
                v.Permit.ValidFrom, v.Permit.ValidUntil, roles, halts.IsHalted(v.Permit.ProjectId)));
        }

        return shown.Count == 0 && hiding is not null ? CrossProjectTraining.Refuse(context, hiding) : TypedResults.Ok(shown);
    }

    private static async Task<Ok<ProjectView>> ShowAsync(HttpContext context, PermitService permits, HaltRegistry halts, CancellationToken cancellationToken)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        var permit = access.Permit;
        var document = await permits.CurrentDocumentAsync(permit, cancellationToken);
        var members = new List<ProjectMemberView>();
        foreach (var user in document.DataUsers)
        {
            members.Add(new ProjectMemberView(user.Account, user.Issuer, user.Subject, user.Name, SpeRoles.Researcher));
        }

        foreach (var holder in document.Datasets.Select(d => d.Holder).Distinct(StringComparer.Ordinal))
        {
            members.Add(new ProjectMemberView(holder, null, null, null, SpeRoles.DataHolder));
        }

        return TypedResults.Ok(new ProjectView(permit.ProjectId, permit.Id, permit.Reference, permit.Title, permit.State, permit.ValidFrom, permit.ValidUntil,
            members, document.Datasets.Select(d => new ProjectDatasetView(d.Id, d.Title, d.Holder, d.Description)).ToList(), halts.IsHalted(permit.ProjectId)));
    }

    private static async Task<Ok<List<ProjectDatasetView>>> DatasetsAsync(HttpContext context, PermitService permits, CancellationToken cancellationToken)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        var document = await permits.CurrentDocumentAsync(access.Permit, cancellationToken);
        return TypedResults.Ok(document.Datasets.Select(d => new ProjectDatasetView(d.Id, d.Title, d.Holder, d.Description)).ToList());
    }
}
