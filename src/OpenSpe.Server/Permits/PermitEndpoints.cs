using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>Permits under <c>/api/v1/permits</c> (the HDAB issues and changes them; the people they name read them) and the public signing keys.</summary>
internal static class PermitEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapPermitEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/.well-known/spe-keys.json", (PermitSigningKey key) => TypedResults.Ok(key.PublicJwks()))
            .WithName("keys.permit-signing").AllowAnonymous().WithTags("Permits").ProducesCommonProblems()
            .WithSummary("The JWK set that verifies permit documents, visas and erasure certificates.");

        var group = routes.MapGroup("/api/v1/permits").WithTags("Permits").WithMetadata(new AuditResourceAttribute("permit")).ProducesSignedInProblems();
        group.MapPost("", CreateAsync).WithName("permits.create").RequireAuthorization(SpePolicies.Hdab).ProducesJsonBodyProblems()
            .WithSummary("Issues a permit; its project and the project's key pair are created with it.");
        group.MapGet("", ListAsync).WithName("permits.list").RequireAuthorization(SpePolicies.PermitReaders)
            .WithSummary("Permits the caller may see.");
        group.MapGet("/{id}", ShowAsync).WithName("permits.show").RequireAuthorization(SpePolicies.PermitReaders).ProducesProblems(404);
        group.MapGet("/{id}/versions", VersionsAsync).WithName("permits.versions").RequireAuthorization(SpePolicies.PermitReaders).ProducesProblems(404);
        group.MapGet("/{id}/document", DocumentAsync).WithName("permits.document").RequireAuthorization(SpePolicies.PermitReaders).ProducesProblems(404)
            .Produces<string>(200, "application/jose")
            .WithSummary("The current version as a compact JWS (ES256), verifiable with /.well-known/spe-keys.json.");
        group.MapGet("/{id}/visas", VisasAsync).WithName("permits.visas").RequireAuthorization(SpePolicies.VisaReaders).ProducesProblems(404)
            .WithSummary("GA4GH Passport ControlledAccessGrants visas, one per data user and dataset: all for the HDAB, a data user's own otherwise.");
        group.MapPost("/{id}/amendments", AmendAsync).WithName("permits.amend").RequireAuthorization(SpePolicies.Hdab).ProducesJsonBodyProblems().ProducesProblems(404, 409)
            .WithSummary("Issues a new version (people, period, datasets, policies); the history is kept.");
        group.MapPost("/{id}/suspend", (string id, PermitReasonRequest body, HttpContext c, PermitService p, UserManager<SpeUser> u, CancellationToken t) =>
                ChangeAsync(id, body, c, p, u, requireReason: true, (s, r, a, tr) => s.SuspendAsync(id, r!, a, tr, t)))
            .WithName("permits.suspend").RequireAuthorization(SpePolicies.Hdab).Validate<PermitReasonRequest>().ProducesProblems(404, 409);
        group.MapPost("/{id}/resume", (string id, PermitReasonRequest body, HttpContext c, PermitService p, UserManager<SpeUser> u, CancellationToken t) =>
                ChangeAsync(id, body, c, p, u, requireReason: false, (s, r, a, tr) => s.ResumeAsync(id, r, a, tr, t)))
            .WithName("permits.resume").RequireAuthorization(SpePolicies.Hdab).Validate<PermitReasonRequest>().ProducesProblems(404, 409);
        group.MapPost("/{id}/revoke", (string id, PermitReasonRequest body, HttpContext c, PermitService p, UserManager<SpeUser> u, CancellationToken t) =>
                ChangeAsync(id, body, c, p, u, requireReason: true, (s, r, a, tr) => s.RevokeAsync(id, r!, a, tr, t)))
            .WithName("permits.revoke").RequireAuthorization(SpePolicies.Hdab).Validate<PermitReasonRequest>().ProducesProblems(404, 409)
            .WithSummary("Revokes the permit and terminates its project at once.");
        return routes;
    }

    private static async Task<Results<Created<PermitView>, ValidationProblem, ProblemHttpResult>> CreateAsync(PermitDocument document, HttpContext context, PermitService permits, UserManager<SpeUser> users, CancellationToken cancellationToken)
    {
        var result = await permits.CreateAsync(document, context.User, TraceIds.Current(context), cancellationToken);
        return result.Permit is { } permit
            ? TypedResults.Created($"/api/v1/permits/{permit.Id}", await ViewAsync(permit, permits, users, cancellationToken))
            : Refused<Created<PermitView>>(result.Failure!);
    }

    private static async Task<Ok<List<PermitSummary>>> ListAsync(HttpContext context, PermitService permits, CancellationToken cancellationToken) =>
        TypedResults.Ok((await permits.VisibleAsync(ProjectAccessSetup.PrincipalOf(context.User), cancellationToken)).Select(v => v.Permit.ToSummary()).ToList());

    private static async Task<Results<Ok<PermitView>, ProblemHttpResult>> ShowAsync(string id, HttpContext context, PermitService permits, UserManager<SpeUser> users, CancellationToken cancellationToken) =>
        await VisibleAsync(id, context.User, permits, cancellationToken) is { } permit
            ? TypedResults.Ok(await ViewAsync(permit, permits, users, cancellationToken))
            : NotFound();

    private static async Task<Results<Ok<List<PermitVersionView>>, ProblemHttpResult>> VersionsAsync(string id, HttpContext context, PermitService permits, UserManager<SpeUser> users, CancellationToken cancellationToken)
    {
        if (await VisibleAsync(id, context.User, permits, cancellationToken) is null)
        {
            return NotFound();
        }

        var versions = await permits.VersionsAsync(id, cancellationToken);
        var result = new List<PermitVersionView>();
        foreach (var v in versions)
        {
            result.Add(new PermitVersionView(v.Version, v.CreatedAt, await UsernameAsync(users, v.CreatedBy), v.Summary));
        }

        return TypedResults.Ok(result);
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> DocumentAsync(string id, HttpContext context, PermitService permits, CancellationToken cancellationToken) =>
        await VisibleAsync(id, context.User, permits, cancellationToken) is { } permit
            ? TypedResults.Text(await permits.SignedDocumentAsync(permit, cancellationToken), "application/jose")
            : NotFound();

    private static async Task<Results<Ok<List<PermitVisaView>>, ProblemHttpResult>> VisasAsync(string id, HttpContext context, PermitService permits, CancellationToken cancellationToken) =>
        await VisibleAsync(id, context.User, permits, cancellationToken) is { } permit
            ? TypedResults.Ok((await permits.VisasAsync(permit, context.User, cancellationToken)).Select(v => new PermitVisaView(v.User, v.Dataset, v.Visa)).ToList())
            : NotFound();

    private static async Task<Results<Ok<PermitView>, ValidationProblem, ProblemHttpResult>> AmendAsync(string id, PermitDocument document, HttpContext context, PermitService permits, UserManager<SpeUser> users, CancellationToken cancellationToken)
    {
        var result = await permits.AmendAsync(id, document, context.User, TraceIds.Current(context), cancellationToken);
        return result.Permit is { } permit ? TypedResults.Ok(await ViewAsync(permit, permits, users, cancellationToken)) : Refused<Ok<PermitView>>(result.Failure!);
    }

    private static async Task<Results<Ok<PermitView>, ValidationProblem, ProblemHttpResult>> ChangeAsync(
        string id, PermitReasonRequest body, HttpContext context, PermitService permits, UserManager<SpeUser> users, bool requireReason,
        Func<PermitService, string?, ClaimsPrincipal, string, Task<PermitResult>> change)
    {
        if (requireReason && string.IsNullOrWhiteSpace(body.Reason))
        {
            return Problems.Invalid("reason", "A reason is required.");
        }

        var result = await change(permits, body.Reason, context.User, TraceIds.Current(context));
        return result.Permit is { } permit ? TypedResults.Ok(await ViewAsync(permit, permits, users, context.RequestAborted)) : Refused<Ok<PermitView>>(result.Failure!);
    }

    private static Task<PermitEntity?> VisibleAsync(string id, ClaimsPrincipal caller, PermitService permits, CancellationToken cancellationToken) =>
        // Note: a person not named in a permit gets 404, exactly as for a permit that does not exist.
        permits.FindVisibleAsync(id, ProjectAccessSetup.PrincipalOf(caller), cancellationToken);

    internal static async Task<PermitView> ViewAsync(PermitEntity permit, PermitService permits, UserManager<SpeUser> users, CancellationToken cancellationToken) =>
        new(permit.Id, permit.ProjectId, permit.Reference, permit.Title, permit.State, permit.CurrentVersion, permit.ValidFrom, permit.ValidUntil,
            permit.CreatedAt, await UsernameAsync(users, permit.CreatedBy), await permits.CurrentDocumentAsync(permit, cancellationToken));

    private static async Task<string> UsernameAsync(UserManager<SpeUser> users, string id) => (await users.FindByIdAsync(id))?.UserName ?? id;

    // Note: the one place a permit refusal becomes HTTP, so every kind has its status and code.
    private static Results<TOk, ValidationProblem, ProblemHttpResult> Refused<TOk>(PermitFailure failure)
        where TOk : IResult => failure.Kind switch
        {
            PermitFailureKind.Invalid => Problems.Invalid(failure.Errors ?? new Dictionary<string, string[]>(), failure.Detail),
            PermitFailureKind.NotFound => Problems.Of(404, failure.Detail),
            _ => Problems.Of(409, failure.Detail, ErrorCodes.PermitStateConflict),
        };

    private static ProblemHttpResult NotFound() => Problems.Of(404, PermitFailure.NotFound.Detail);
}
