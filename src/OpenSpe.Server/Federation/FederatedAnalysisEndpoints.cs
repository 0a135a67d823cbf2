using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Identity;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Learning;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation;

/// <summary>The body of <c>POST /api/v1/projects/{projectId}/federation/glm</c>.</summary>
/// <param name="Formula">The R formula, e.g. <c>DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL</c>.</param>
/// <param name="Family"><c>gaussian</c>, <c>binomial</c> or <c>poisson</c>.</param>
/// <param name="Table">The CSV file in each node's dataset; omitted when each holds exactly one.</param>
/// <param name="Levels">Factor levels fixed for every node.</param>
internal sealed record FederatedGlmBody(string? Formula, string? Family, string? Table = null, Dictionary<string, List<string>>? Levels = null);

/// <summary>The body of <c>POST /api/v1/projects/{projectId}/federation/count</c>.</summary>
/// <param name="Concept">The OMOP concept id.</param>
/// <param name="Descendants">Whether its descendants count too.</param>
/// <param name="By">Strata: any of <c>gender</c>, <c>age</c>.</param>
/// <param name="AgeBandYears">Width of the age bands (default 10).</param>
internal sealed record FederatedCountBody(long Concept, bool Descendants = false, List<string>? By = null, int? AgeBandYears = null);

/// <summary>
/// The data user's federated analyses at the coordinating SPE (FCR-1, FCR-2, FCR-6): <c>POST /api/v1/projects/{projectId}/federation/glm</c>
/// and <c>…/count</c>, for a researcher of the project signed in with MFA (the access chain: member, not halted, permit in force),
/// answering the combined result with each node's status, or a problem naming each node that refused and why.
/// </summary>
internal static class FederatedAnalysisEndpoints
{
    /// <summary>Maps the endpoints when this SPE is a federation node.</summary>
    public static IEndpointRouteBuilder MapFederatedAnalysisEndpoints(this IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        if (!routes.ServiceProvider.GetRequiredService<IOptions<FederationOptions>>().Value.Enabled)
        {
            return routes;
        }

        var group = routes.MapGroup("/api/v1/projects/{projectId}/federation").WithTags("Federation").WithMetadata(new AuditResourceAttribute("project"))
            .RequireAuthorization(SpePolicies.HumanOrClient);
        group.MapPost("/glm", GlmAsync).WithName("projects.federation.glm").Produces(StatusCodes.Status200OK, contentType: FederatedProgress.MediaType).ProducesProjectProblems().ProducesJsonBodyProblems().ProducesProblems(400, 422)
            .WithMetadata(new ProjectActionAttribute("project.federation.glm", SpeRoles.Researcher))
            .WithSummary("Fits an exact federated GLM over the nodes of the project's permit (each checks the permit, the requester and the component itself); the combined coefficients and each node's status.");
        group.MapPost("/count", CountAsync).WithName("projects.federation.count").Produces(StatusCodes.Status200OK, contentType: FederatedProgress.MediaType).ProducesProjectProblems().ProducesJsonBodyProblems().ProducesProblems(400, 422)
            .WithMetadata(new ProjectActionAttribute("project.federation.count", SpeRoles.Researcher))
            .WithSummary("Counts the persons with an OMOP concept over the nodes of the project's permit, from the counts each node released after its own suppression.");
        group.MapPost("/train", TrainAsync).WithName("projects.federation.train").Produces(StatusCodes.Status200OK, contentType: FederatedProgress.MediaType).ProducesProjectProblems().ProducesJsonBodyProblems().ProducesProblems(400, 409, 422)
            .WithMetadata(new ProjectActionAttribute("project.federation.train", SpeRoles.Researcher))
            .WithSummary("Trains a FedAvg logistic regression over the nodes of the project's permit through Train streams: each node clips and noises its update and charges its own privacy ledger; this node charges the run to the permit's budget first.");
        group.MapGet("/privacy", PrivacyAsync).WithName("projects.federation.privacy").ProducesProjectProblems()
            .WithMetadata(new ProjectActionAttribute("project.federation.privacy", SpeRoles.Researcher))
            .WithSummary("The permit's differential-privacy budget and what was spent of it: by the analyses coordinated here (everyone's and yours) and on this node's own rows.");
        return routes;
    }

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult, EmptyHttpResult>> TrainAsync(JsonElement body, HttpContext context, FederatedCoordinator coordinator, PermitService permits,
        PrivacyLedgers ledgers, CancellationToken cancellationToken)
    {
        var error = "the body must be a JSON object";
        var specification = body.ValueKind == JsonValueKind.Object ? FedAvgSpecification.FromJson(body.GetRawText(), out error) : null;
        if (specification is not null)
        {
            error = string.Join("; ", specification.Validate());
        }

        // Note: a malformed request is answered here, before any node is asked or any budget reserved.
        if (error.Length > 0)
        {
            return Problems.Of(400, error, ErrorCodes.FederatedAnalysisInvalidParameters);
        }

        var (planned, refused) = await coordinator.LearnersAsync(context, permits, cancellationToken);
        if (planned is not { } plan)
        {
            return refused!;
        }

        var progress = FederatedProgress.For(context);
        foreach (var learner in plan.Learners)
        {
            learner.Progress = progress;
        }

        FedAvgOutcome outcome;
        await using (plan)
        {
            var budget = PrivacyLedgers.BudgetOf(plan.Document);
            outcome = await new FedAvgCoordinator().TrainAsync(plan.Learners, specification!, plan.Document.Reference, plan.Requester, ledgers.Coordinator,
                new LedgerScope(plan.Document.Reference, plan.Requester, budget), cancellationToken);
        }

        var projectId = (string)context.Request.RouteValues["projectId"]!;
        coordinator.Finished(FedAvgComponent.ComponentName, projectId, plan.Learners.Count, outcome.Failure?.Code ?? "ok");
        var names = plan.Learners.Select(l => l.Name).ToList();
        if (outcome.Result is not { } result)
        {
            return await AnswerAsync(progress, Failed(outcome.Failure!, names));
        }

        var privacy = await ledgers.ReportAsync(plan.Document, plan.Requester, cancellationToken);
        return await AnswerAsync(progress, TypedResults.Ok(JsonSerializer.SerializeToElement(new
        {
            coefficients = result.Columns.Zip(result.Estimates).ToDictionary(p => p.First, p => p.Second),
            rounds = result.Rounds,
            rhoPerRound = result.RhoPerRound.ToDouble(),
            nodes = result.Nodes.Select(n => new { name = n.Name, status = "ok", rows = n.Rows }),
            stopped = outcome.Failure is { } f ? new { code = f.Code, message = f.Message } : null,
            privacy = PrivacyBudgetEndpoints.Json(privacy),
        })));
    }

    /// <summary>The answer as one JSON document, or as the last line of the progress lines when the caller asked for them.</summary>
    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult, EmptyHttpResult>> AnswerAsync(FederatedProgress? progress, IResult outcome)
    {
        var answer = progress is null ? outcome : await progress.FinishAsync(outcome);
        return answer switch
        {
            Ok<JsonElement> ok => ok,
            ProblemHttpResult problem => problem,
            EmptyHttpResult empty => empty,
            _ => throw new InvalidOperationException("a federated analysis answers its result or a problem"),
        };
    }

    private static async Task<Ok<JsonElement>> PrivacyAsync(HttpContext context, PermitService permits, PrivacyLedgers ledgers, CancellationToken cancellationToken)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        var document = await permits.CurrentDocumentAsync(access.Permit, cancellationToken);
        var person = FederatedCoordinator.RequesterOf(document, context.User);
        return TypedResults.Ok(JsonSerializer.SerializeToElement(PrivacyBudgetEndpoints.Json(await ledgers.ReportAsync(document, person, cancellationToken))));
    }

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult, EmptyHttpResult>> GlmAsync(FederatedGlmBody body, HttpContext context, FederatedCoordinator coordinator, PermitService permits,
        CancellationToken cancellationToken)
    {
        var specification = new GlmSpecification
        {
            Formula = body.Formula ?? "",
            Family = body.Family ?? "",
            Table = body.Table,
            Levels = body.Levels?.ToDictionary(l => l.Key, l => (IReadOnlyList<string>)l.Value, StringComparer.Ordinal),
        };
        // Note: a malformed request is answered here, before any node is asked, so a typo costs no peer a task.
        if (specification.Problem() is { } problem)
        {
            return Problems.Of(400, problem, ErrorCodes.FederatedAnalysisInvalidParameters);
        }

        var (nodes, refused) = await coordinator.NodesAsync(context, permits, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var progress = FederatedProgress.For(context);
        var outcome = await new FederatedGlmCoordinator().FitAsync(progress?.Observe(nodes!) ?? nodes!, specification, cancellationToken);
        var projectId = (string)context.Request.RouteValues["projectId"]!;
        coordinator.Finished(GlmNodeAnalysis.ComponentName, projectId, nodes!.Count, outcome.Failure?.Code ?? "ok");
        return await AnswerAsync(progress, outcome.Result is { } result ? TypedResults.Ok(JsonDocument.Parse(result.ToJson()).RootElement.Clone()) : Failed(outcome.Failure!, [.. nodes!.Select(n => n.Name)]));
    }

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult, EmptyHttpResult>> CountAsync(FederatedCountBody body, HttpContext context, FederatedCoordinator coordinator,
        PermitService permits, CancellationToken cancellationToken)
    {
        if (body.Concept <= 0 || body.By?.Any(b => b is not ("gender" or "age")) == true || body.AgeBandYears is < 1 or > 110)
        {
            return Problems.Of(400, "concept must be a positive OMOP concept id, by any of 'gender' and 'age', ageBandYears from 1 to 110", ErrorCodes.FederatedAnalysisInvalidParameters);
        }

        var (nodes, refused) = await coordinator.NodesAsync(context, permits, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var request = new CohortCountRequest { Concept = body.Concept, Descendants = body.Descendants, By = body.By?.Distinct(StringComparer.Ordinal).ToList(), AgeBandYears = body.AgeBandYears ?? 10 };
        var progress = FederatedProgress.For(context);
        var outcome = await new CohortCountCoordinator().CountAsync(progress?.Observe(nodes!) ?? nodes!, request, cancellationToken);
        var projectId = (string)context.Request.RouteValues["projectId"]!;
        coordinator.Finished(CohortCountNodeAnalysis.ComponentName, projectId, nodes!.Count, outcome.Failure?.Code ?? "ok");
        return await AnswerAsync(progress, outcome.Result is { } result ? TypedResults.Ok(JsonDocument.Parse(result.ToJson()).RootElement.Clone()) : Failed(outcome.Failure!, [.. nodes!.Select(n => n.Name)]));
    }

    /// <summary>The problem for a failed analysis: its code, a detail naming each node that refused, and every node's status.</summary>
    private static ProblemHttpResult Failed(CoordinationFailure failure, IReadOnlyList<string> nodes)
    {
        var status = failure.Code == ErrorCodes.FederatedAnalysisInvalidParameters ? 400 : failure.Code == ErrorCodes.FederatedLearningBudgetExhausted ? 409 : 422;
        var detail = failure.Nodes.Count == 0 ? failure.Message
            : $"{failure.Message}: " + string.Join("; ", failure.Nodes.Select(n => $"{n.Node}: {n.Refusal.Code} {n.Refusal.Message}"));
        var statuses = nodes.Select(n => failure.Nodes.FirstOrDefault(r => r.Node == n) is { } r
            ? new { name = n, status = "refused", code = (string?)r.Refusal.Code, reasons = (IReadOnlyList<string>?)r.Refusal.Reasons }
            : new { name = n, status = "ok", code = (string?)null, reasons = (IReadOnlyList<string>?)null }).ToList();
        return TypedResults.Problem(statusCode: status, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = failure.Code, ["nodes"] = statuses });
    }
}
