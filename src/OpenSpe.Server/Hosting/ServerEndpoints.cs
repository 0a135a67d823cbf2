using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Hosting;

/// <summary>Liveness, readiness and server information.</summary>
internal static class ServerEndpoints
{
    /// <summary>Maps <c>/healthz</c>, <c>/readyz</c>, <c>/api/v1/server/info</c> (the front page <c>/</c> is the portal's).</summary>
    public static IEndpointRouteBuilder MapServerEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthView("ok"))).WithName("health.live").AllowAnonymous().WithTags("Health")
            .WithSummary("Liveness: the process answers.").ProducesCommonProblems();
        routes.MapGet("/readyz", ReadyAsync).WithName("health.ready").AllowAnonymous().WithTags("Health")
            .WithSummary("Readiness: the database answers, the audit log takes writes and the halts in force have been read within Halts:StalenessBound.")
            .ProducesCommonProblems();
        routes.MapGet("/api/v1/server/info", Info).WithName("server.info").RequireAuthorization(SpePolicies.HumanOrClient).WithTags("Server")
            .WithSummary("Server version and the caller as the server sees them.").ProducesSignedInProblems();
        return routes;
    }

    private static async Task<Results<Ok<ReadinessView>, ProblemHttpResult>> ReadyAsync(HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await ReadinessChecks.RunAsync(health, cancellationToken);
        var database = ReadinessChecks.StateOf(report, DatabaseReadinessCheck.Name);
        // Note: with the database unreachable the audit log's own state cannot be known, whatever its check saw.
        var auditState = database == "ok" ? ReadinessChecks.StateOf(report, AuditReadinessCheck.Name) : "unknown";
        var haltState = ReadinessChecks.StateOf(report, Permits.HaltReadinessCheck.Name);
        if (report.Status == HealthStatus.Healthy)
        {
            return TypedResults.Ok(new ReadinessView("ready", database, auditState, haltState));
        }

        return TypedResults.Problem(statusCode: 503, detail: $"Not ready: database {database}, audit log {auditState}, halts {haltState}.",
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.NotReady, ["database"] = database, ["audit"] = auditState, ["halts"] = haltState });
    }

    private static Ok<ServerInfoView> Info(HttpContext context) => TypedResults.Ok(new ServerInfoView(
        "OpenSPE",
        typeof(ServerEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0",
        ["v1"],
        context.User.FindFirst("preferred_username")?.Value,
        context.User.FindAll("role").Select(c => c.Value).ToArray()));
}
