using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Access;
using OpenSpe.Core.Access.Handlers;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Permits;

/// <summary>
/// The access chain's training step (OPR-23) for the endpoints that read across projects without a project in the route
/// (the export registry, the import queue): a person needs valid training in the role the list serves, as they would to
/// open any one project it lists.
/// </summary>
internal static class CrossProjectTraining
{
    /// <summary>Refuses (403 <c>SPE8200</c>) a person without valid training in whichever of <paramref name="roles"/> they hold.</summary>
    public static RouteHandlerBuilder RequireTraining(this RouteHandlerBuilder builder, params string[] roles) =>
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            var principal = ProjectAccessSetup.PrincipalOf(context.User);
            var acting = roles.Where(principal.Roles.Contains).ToList();
            return await RefusalAsync(context, principal, acting) is { } refusal ? Refuse(context, refusal) : await next(invocation);
        });

    /// <summary>The 403 <c>SPE8200</c> problem of a training refusal, its reason noted for the audit record.</summary>
    public static ProblemHttpResult Refuse(HttpContext context, AccessRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        AuditDenialReason.Set(context, refusal.Reason);
        return Problems.Of(StatusCodes.Status403Forbidden, refusal.Message, ErrorCodes.TrainingRequired);
    }

    /// <summary>The refusal for a person acting in <paramref name="roles"/>, or null (valid, not required, or an application).</summary>
    public static ValueTask<AccessRefusal?> RefusalAsync(HttpContext context, AccessPrincipal principal, IReadOnlyCollection<string> roles)
    {
        ArgumentNullException.ThrowIfNull(context);
        return TrainingHandler.CheckAsync(context.RequestServices.GetService<ITrainingRecords>(), principal, roles,
            context.RequestServices.GetRequiredService<TimeProvider>(), context.RequestAborted);
    }
}
