using Microsoft.AspNetCore.Http;
using OpenSpe.Core.Access;
using OpenSpe.Core.Access.Handlers;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Permits;

/// <summary>What a project-scoped endpoint does, and who may do it (the HTTP face of <see cref="ProjectAction"/>).</summary>
/// <param name="name">Action name, e.g. <c>project.datasets.list</c>.</param>
/// <param name="memberRoles">Permit roles that may do it (<c>researcher</c>, <c>data-holder</c>).</param>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
internal sealed class ProjectActionAttribute(string name, params string[] memberRoles) : Attribute
{
    private ProjectAction? _action;

    /// <summary>Action name.</summary>
    public string Name { get; } = name;

    /// <summary>Permit roles that may do it.</summary>
    public IReadOnlyList<string> MemberRoles { get; } = memberRoles;

    /// <summary>
    /// True when HDAB officers, operators and auditors may do it too: metadata only, never data (SDR-2). Such actions are
    /// open to them whatever the permit's state, and during a halt.
    /// </summary>
    public bool Oversight { get; init; }

    /// <summary>True when output checkers named in no role of the permit may do it (the airlock's independent review).</summary>
    public bool Reviewers { get; init; }

    /// <summary>The action as the access chain reads it.</summary>
    public ProjectAction Action => _action ??= new(Name, MemberRoles, Oversight, Reviewers);
}

/// <summary>The chain's grant, for the endpoint: the permit and the caller's roles in it.</summary>
internal sealed class ProjectAccess(AccessGrant grant)
{
    /// <summary>The grant (for the dataset and file-type steps an endpoint runs once it knows them).</summary>
    public AccessGrant Grant { get; } = grant;

    /// <summary>The permit.</summary>
    public ProjectPermit Permit => Grant.Permit;

    /// <summary>The caller's roles in the permit that count.</summary>
    public IReadOnlySet<string> MemberRoles => Grant.MemberRoles;

    /// <summary>True when admitted only by an oversight role.</summary>
    public bool AsOversight => Grant.AsOversight;

    /// <summary>True when the caller was admitted as an independent reviewer.</summary>
    public bool AsReviewer => Grant.AsReviewer;
}

/// <summary>
/// The HTTP face of the <see cref="AccessChain"/>: every request with a <c>{projectId}</c> route value is judged by the chain
/// (the endpoint's <see cref="ProjectActionAttribute"/> is the declared action) before its endpoint runs. A refusal is a
/// problem answer with the chain's status and code, and its reason class goes to the audit record (OPR-1, EHDSR-3).
/// A halt while the request runs cancels it (OPR-20).
/// </summary>
internal sealed class ProjectAccessGate(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, AccessChain chain, IProjectHalts halts)
    {
        if (context.Request.RouteValues["projectId"] is not string projectId)
        {
            await next(context);
            return;
        }

        var action = context.GetEndpoint()?.Metadata.GetMetadata<ProjectActionAttribute>()?.Action;
        var decision = await chain.DecideAsync(new AccessRequest(ProjectAccessSetup.PrincipalOf(context.User), projectId, action), context.RequestAborted);
        if (decision.Refusal is { } refusal)
        {
            await RefuseAsync(context, refusal);
            return;
        }

        using var grant = decision.Grant!;
        context.Items[typeof(ProjectAccess)] = new ProjectAccess(grant);
        // Note: the request's token is also cancelled by a halt, so a halt stops requests already past this gate (OPR-20).
        var aborted = context.RequestAborted;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, grant.Halted);
        context.RequestAborted = linked.Token;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (grant.Halted.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            if (context.Response.HasStarted)
            {
                // A stream already under way is cut; its closed audit record says a halt ended it.
                AuditDenialReason.Set(context, "halted");
                context.Abort();
                return;
            }

            context.Response.Clear();
            await RefuseAsync(context, HaltHandler.RefusalFor(halts));
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    }

    private static Task RefuseAsync(HttpContext context, AccessRefusal refusal)
    {
        AuditDenialReason.Set(context, refusal.Reason);
        if (refusal.Kind == AccessRefusalKind.HaltStateUnknown)
        {
            // Note: the project may well not be halted, but this instance cannot tell (fail closed, OPR-20); another instance,
            // or this one once the database answers, can.
            context.Response.Headers.RetryAfter = "1";
        }

        return ProblemDetailsSetup.WriteProblemAsync(context, refusal.Status, ProjectAccessSetup.CodeOf(refusal), refusal.Message);
    }
}
