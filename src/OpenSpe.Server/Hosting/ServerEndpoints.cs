using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Hosting;

/// <summary>Liveness, readiness and server information.</summary>
public static class ServerEndpoints
{
    /// <summary>Maps <c>/healthz</c>, <c>/readyz</c>, <c>/api/v1/server/info</c> and the landing page <c>/</c>.</summary>
    public static IEndpointRouteBuilder MapServerEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthView("ok"))).WithName("health.live").AllowAnonymous().WithTags("Health")
            .WithSummary("Liveness: the process answers.").ProducesCommonProblems();
        routes.MapGet("/readyz", ReadyAsync).WithName("health.ready").AllowAnonymous().WithTags("Health")
            .WithSummary("Readiness: the database answers, the audit log takes writes and the halts in force have been read within Halts:StalenessBound.")
            .ProducesCommonProblems();
        routes.MapGet("/api/v1/server/info", Info).WithName("server.info").RequireAuthorization(SpePolicies.HumanOrClient).WithTags("Server")
            .WithSummary("Server version and the caller as the server sees them.").ProducesSignedInProblems();
        routes.MapLandingPage();
        return routes;
    }

    private static async Task<Results<Ok<ReadinessView>, ProblemHttpResult>> ReadyAsync(AuditStore store, IAuditLog audit, Permits.HaltRegistry halts, CancellationToken cancellationToken)
    {
        // An instance that cannot tell which halts are in force serves no project request, so a load balancer should route around it.
        var haltState = halts.IsStale ? "unread" : "ok";
        var database = "ok";
        var auditState = audit.IsHealthy ? "ok" : "failing";
        try
        {
            await using var connection = await store.OpenAsync(cancellationToken);
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(cancellationToken);
            }

            try
            {
                await AuditStore.ProbeWritableAsync(connection, cancellationToken);
            }
            catch (System.Data.Common.DbException)
            {
                auditState = "not-writable";
            }
        }
        catch (System.Data.Common.DbException)
        {
            database = "unreachable";
            auditState = "unknown";
        }

        if (database == "ok" && auditState == "ok" && haltState == "ok")
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
