using Microsoft.AspNetCore.Http;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Permits;

/// <summary>What a project-scoped endpoint does, and who may do it.</summary>
/// <param name="name">Action name, e.g. <c>project.datasets.list</c>.</param>
/// <param name="memberRoles">Permit roles that may do it (<c>researcher</c>, <c>data-holder</c>).</param>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class ProjectActionAttribute(string name, params string[] memberRoles) : Attribute
{
    /// <summary>Action name.</summary>
    public string Name { get; } = name;

    /// <summary>Permit roles that may do it.</summary>
    public IReadOnlyList<string> MemberRoles { get; } = memberRoles;

    /// <summary>
    /// True when HDAB officers, operators and auditors may do it too: metadata only, never data
    /// (SDR-2). Such actions are open to them whatever the permit's state, except during a halt.
    /// </summary>
    public bool Oversight { get; init; }
}

/// <summary>The gate's verdict, for the handler: the permit and the caller's roles in it.</summary>
public sealed record ProjectAccess(PermitEntity Permit, IReadOnlySet<string> MemberRoles, bool AsOversight);

/// <summary>
/// The one access gate of every project-scoped request (any route with <c>{projectId}</c>), in
/// this order: signed in with MFA (or an application); no conflicting account roles; the project
/// exists and the caller is named in the current permit version — a person by account or external
/// identity, an application by its client id (otherwise 404, so its existence does not
/// leak); not halted (423; a halt while the request runs cancels it); the permit is active now (403); the caller's permit role allows the
/// action (403). Each refusal records its reason class for the audit log (OPR-1, EHDSR-3).
/// </summary>
internal sealed class ProjectAccessGate(RequestDelegate next, HaltRegistry halts, TimeProvider time)
{
    private static readonly string[] OversightRoles = [SpeRoles.Hdab, SpeRoles.Operator, SpeRoles.Auditor];

    public async Task InvokeAsync(HttpContext context, PermitService permits)
    {
        if (context.Request.RouteValues["projectId"] is not string projectId)
        {
            await next(context);
            return;
        }

        var action = context.GetEndpoint()?.Metadata.GetMetadata<ProjectActionAttribute>();
        if (action is null)
        {
            // Note: fail closed: a project-scoped endpoint that does not declare its action is unreachable.
            await RefuseAsync(context, 403, ErrorCodes.Forbidden, "undeclared-project-action", "This operation is not available.");
            return;
        }

        var user = context.User;
        if (!IdentitySetup.HasSecondFactor(user) && !IdentitySetup.IsClient(user))
        {
            await RefuseAsync(context, 403, ErrorCodes.Forbidden, "mfa-required", "Project access needs a sign-in with a second factor.");
            return;
        }

        var application = IdentitySetup.IsClient(user);
        if (!application && SeparationOfDuties.Within(user.FindAll("role").Select(c => c.Value)) is not null)
        {
            // Note: an account holding roles the separation-of-duties table forbids together (made before the table existed) gets no project access at all.
            await RefuseAsync(context, 403, ErrorCodes.Forbidden, "role-conflict", "Your account holds roles that may not be held together: ask an admin to revoke one.");
            return;
        }

        var permit = await permits.FindByProjectAsync(projectId, context.RequestAborted);
        var memberRoles = permit is null ? new HashSet<string>() : await permits.MemberRolesAsync(permit.Id, user, context.RequestAborted);
        // A person's role counts only when they hold it both in the permit and in their account; an application's role comes from the permit alone (FCR-7).
        var effective = application
            ? memberRoles.Where(r => r == PermitRoles.Application).ToHashSet(StringComparer.Ordinal)
            : memberRoles.Where(r => r != PermitRoles.Application && user.IsInRole(r)).ToHashSet(StringComparer.Ordinal);
        var oversight = !application && action.Oversight && OversightRoles.Any(user.IsInRole);
        if (permit is null || (effective.Count == 0 && !oversight))
        {
            await RefuseAsync(context, 404, ErrorCodes.NotFound, "not-a-member", "There is no such project.");
            return;
        }

        using var work = halts.TryBeginWork(projectId);
        if (work is null)
        {
            await RefuseHaltedAsync(context, halts);
            return;
        }

        var asOversight = oversight && !action.MemberRoles.Any(effective.Contains);
        if (!asOversight)
        {
            var now = time.GetUtcNow();
            var reason = permit.State != PermitStates.Active ? "permit-" + permit.State
                : now < permit.ValidFrom ? "permit-not-yet-valid"
                : now >= permit.ValidUntil ? "permit-expired"
                : null;
            if (reason is not null)
            {
                await RefuseAsync(context, 403, ErrorCodes.PermitNotActive, reason, $"The permit is not in force ({reason.Replace('-', ' ')}).");
                return;
            }

            if (!action.MemberRoles.Any(effective.Contains))
            {
                await RefuseAsync(context, 403, ErrorCodes.Forbidden, "permit-role", "Your role in this permit does not allow this.");
                return;
            }
        }

        context.Items[typeof(ProjectAccess)] = new ProjectAccess(permit, effective, asOversight);
        // Note: the request's token is also cancelled by a halt, so a halt stops requests already past this gate (OPR-20).
        var aborted = context.RequestAborted;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, work.Halted);
        context.RequestAborted = linked.Token;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (work.Halted.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            if (context.Response.HasStarted)
            {
                // A stream already under way is cut; its closed audit record says a halt ended it.
                AuditDenialReason.Set(context, "halted");
                context.Abort();
                return;
            }

            context.Response.Clear();
            await RefuseHaltedAsync(context, halts);
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    }

    private static Task RefuseHaltedAsync(HttpContext context, HaltRegistry halts)
    {
        if (halts.IsStale)
        {
            // Note: 503, not 423: the project may well not be halted, but this instance cannot tell, so it serves nothing of any
            // project (fail closed, OPR-20); another instance, or this one once the database answers, can.
            context.Response.Headers.RetryAfter = "1";
            return RefuseAsync(context, 503, ErrorCodes.HaltStateUnknown, "halt-state-unknown",
                "This server cannot read the emergency halts in force, so it serves no project request. Try again shortly.");
        }

        return RefuseAsync(context, 423, ErrorCodes.ProjectHalted, "halted", "This project is halted by an emergency stop. Nothing can be done until it is resumed.");
    }

    private static Task RefuseAsync(HttpContext context, int status, string code, string reason, string detail)
    {
        AuditDenialReason.Set(context, reason);
        return ProblemDetailsSetup.WriteProblemAsync(context, status, code, detail);
    }
}
