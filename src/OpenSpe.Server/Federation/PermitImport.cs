using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation;

/// <summary>
/// <c>POST /api/v1/permits/import</c> (federation nodes only; HDAB or operator of this node): a permit another SPE's HDAB signed,
/// verified against <c>Federation:TrustedPermitIssuers</c>, becomes a local permit and project for the datasets this node holds
/// (<c>datasets[].node</c> = this node's name), so its data holders upload as usual (FSPER-2, FSPER-3, FCR-7).
/// </summary>
/// <remarks>
/// The local copy keeps the reference, period, purpose and policies; its datasets are those held here (named without a node); its
/// data users are the permit's people as identities of the issuing SPE (issuer = the permit's <c>iss</c>, subject = the account
/// there), since they sign in at their coordinating SPE, not here; applications of the other SPE are left out.
/// </remarks>
internal static class PermitImport
{
    /// <summary>Maps the import endpoint when the node serves federation.</summary>
    public static IEndpointRouteBuilder MapFederationModule(this IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        routes.MapPrivacyBudgetEndpoints();
        if (!routes.ServiceProvider.GetRequiredService<IOptions<FederationOptions>>().Value.Enabled)
        {
            return routes;
        }

        // Note: the halt operators' policy is the HDAB-or-operator policy: the roles that may bring a permit into this node.
        routes.MapPost("/api/v1/permits/import", ImportAsync).WithName("permits.import").WithTags("Permits").WithMetadata(new AuditResourceAttribute("permit"))
            .RequireAuthorization(SpePolicies.HaltOperators).Validate<PermitImportRequest>().ProducesSignedInProblems().ProducesJsonBodyProblems().ProducesProblems(422)
            .WithSummary("Imports a permit another SPE's HDAB signed: creates the local permit and project for the datasets this node holds.");
        routes.MapFederatedAnalysisEndpoints();
        return routes;
    }

    private static async Task<Results<Created<PermitView>, ValidationProblem, ProblemHttpResult>> ImportAsync(PermitImportRequest request, HttpContext context,
        FederatedTaskChecks checks, FederationNodeIdentity node, PermitService permits, UserManager<SpeUser> users, IAuditLog audit, CancellationToken cancellationToken)
    {
        var (permit, held, refusal) = await checks.PermitAsync(request.Document);
        if (permit is null || refusal is not null)
        {
            return Problems.Of(422, refusal?.Message ?? "The document is not a permit.", ErrorCodes.FederationImportRefused);
        }

        if (held.Count == 0)
        {
            return Problems.Of(422, $"The permit names no dataset held by node '{node.Name}'.", ErrorCodes.FederationImportRefused);
        }

        var local = Localize(permit, held);
        var result = await permits.CreateAsync(local, context.User, TraceIds.Current(context), cancellationToken);
        if (result.Permit is not { } created)
        {
            var failure = result.Failure!;
            return failure.Kind == PermitFailureKind.Invalid
                ? Problems.Invalid(failure.Errors ?? new Dictionary<string, string[]>(), failure.Detail)
                : Problems.Of(409, failure.Detail, ErrorCodes.PermitStateConflict);
        }

        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "permit.imported", new AuditResource("permit", created.Id, created.ProjectId), AuditOutcome.Success,
            null, TraceIds.Current(context), new Dictionary<string, string>
            {
                ["issuer"] = permit.Issuer,
                ["issuerPermit"] = permit.PermitId,
                ["issuerVersion"] = permit.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["datasets"] = string.Join(",", held),
            }), cancellationToken);
        return TypedResults.Created($"/api/v1/permits/{created.Id}", await PermitEndpoints.ViewAsync(created, permits, users, cancellationToken));
    }

    /// <summary>The local copy of a verified permit: the datasets held here, the people as identities of the issuing SPE.</summary>
    internal static PermitDocument Localize(FederatedPermit permit, IReadOnlyList<string> held)
    {
        ArgumentNullException.ThrowIfNull(permit);
        var document = permit.Document;
        return document with
        {
            Datasets = [.. document.Datasets.Where(d => held.Contains(d.Id)).Select(d => d with { Node = null })],
            DataUsers = [.. document.DataUsers.Where(u => u.Application is null)
                .Select(u => u.Account is not null ? new PermitDataUser(Issuer: permit.Issuer, Subject: u.Account, Name: u.Name) : u)],
        };
    }
}
