using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Federation.Learning;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation.Learning;

/// <summary>
/// The HDAB's view of the privacy budgets (FCR-9, EHDSR-13): <c>GET /api/v1/permits/privacy</c> (every permit) and
/// <c>GET /api/v1/permits/{id}/privacy</c> (one), each permit's <c>privacyBudget</c> and what this SPE's two ledgers hold
/// against it. Mapped on every SPE: one that is not a federation node simply has spent nothing.
/// </summary>
internal static class PrivacyBudgetEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapPrivacyBudgetEndpoints(this IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        routes.MapGet("/api/v1/permits/privacy", ListAsync).WithName("permits.privacy.list").WithTags("Permits")
            .WithMetadata(new AuditResourceAttribute("permit")).RequireAuthorization(SpePolicies.Hdab).ProducesSignedInProblems()
            .WithSummary("For the HDAB: every permit's differential-privacy budget and what was spent of it at this SPE (its own rows, and the runs it coordinated).");
        routes.MapGet("/api/v1/permits/{id}/privacy", ShowAsync).WithName("permits.privacy").WithTags("Permits")
            .WithMetadata(new AuditResourceAttribute("permit")).RequireAuthorization(SpePolicies.Hdab).ProducesSignedInProblems().ProducesProblems(404)
            .WithSummary("For the HDAB: a permit's differential-privacy budget and what was spent of it at this SPE (both ledgers).");
        return routes;
    }

    /// <summary>A spend report as the API answers it.</summary>
    public static object Json(PrivacySpendReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        static object Spent(PrivacySpendView v) => new { rho = v.Rho, epsilon = v.Epsilon, committedRho = RhoUnits.ToRho(v.Spend.CommittedUnits), reservedRho = RhoUnits.ToRho(v.Spend.ReservedUnits) };
        return new
        {
            permit = report.Permit,
            budget = new { epsilon = report.Budget.Epsilon, delta = report.Budget.Delta, rho = RhoUnits.ToRho(report.Budget.CapUnits) },
            coordinated = Spent(report.Coordinator),
            mine = report.Person is { } mine ? Spent(mine) : null,
            thisNode = Spent(report.Node),
        };
    }

    private static async Task<Ok<JsonElement>> ListAsync(HttpContext context, PermitService permits, PrivacyLedgers ledgers, CancellationToken cancellationToken)
    {
        var rows = new List<object>();
        foreach (var (permit, _) in await permits.VisibleAsync(ProjectAccessSetup.PrincipalOf(context.User), cancellationToken))
        {
            var document = await permits.CurrentDocumentAsync(permit, cancellationToken);
            rows.Add(new { id = permit.Id, projectId = permit.ProjectId, title = permit.Title, state = permit.State, privacy = Json(await ledgers.ReportAsync(document, null, cancellationToken)) });
        }

        return TypedResults.Ok(JsonSerializer.SerializeToElement(rows));
    }

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> ShowAsync(string id, PermitService permits, PrivacyLedgers ledgers, CancellationToken cancellationToken)
    {
        if (await permits.FindAsync(id, cancellationToken) is not { } permit)
        {
            return Problems.Of(404, "No such permit.", ErrorCodes.NotFound);
        }

        var document = await permits.CurrentDocumentAsync(permit, cancellationToken);
        return TypedResults.Ok(JsonSerializer.SerializeToElement(Json(await ledgers.ReportAsync(document, null, cancellationToken))));
    }
}
