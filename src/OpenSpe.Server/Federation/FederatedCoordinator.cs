using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Federation.Analyses;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Server.Permits;
using Library = OpenSpe.Federation.Analyses;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The coordinating side of a federated analysis (FCR-1, FSPER-4): for a project the caller passed the access chain for, the
/// nodes of its permit — this node for the datasets held here (<see cref="LocalServerNode"/>), each other node the permit's
/// <c>datasets[].node</c> names over its mutual-TLS channel (<see cref="GrpcFederatedNode"/>) — with the permit as this SPE's
/// HDAB signed it and the caller as the requester. Each node checks everything again itself.
/// </summary>
internal sealed class FederatedCoordinator(FederationNodeIdentity node, FederationPeerChannels channels, FederatedTaskChecks checks, FederatedComponentGate gate, IFederatedData data, IAuditLog audit,
    IOptions<FederationOptions> options, ILogger<FederatedCoordinator> logger)
{
    /// <summary>The audit action of each task this node sends to a node (itself included).</summary>
    public const string TaskSent = "federation.task.sent";

    /// <summary>The permit's nodes for the caller, or the problem that stops the analysis before any node is asked.</summary>
    public async Task<(IReadOnlyList<Library.IFederatedNode>? Nodes, ProblemHttpResult? Problem)> NodesAsync(HttpContext context, PermitService permits, CancellationToken cancellationToken)
    {
        var (plan, problem) = await PlanAsync(context, permits, cancellationToken);
        if (plan is null)
        {
            return (null, problem);
        }

        // Note: one random session per analysis, so each node decrypts its data once for all the analysis's rounds (DecryptedCopies).
        var session = System.Security.Cryptography.RandomNumberGenerator.GetHexString(32, lowercase: true);
        var nodes = new List<Library.IFederatedNode>();
        foreach (var name in plan.Names)
        {
            if (name == node.Name)
            {
                nodes.Add(new LocalServerNode(name, checks, gate, data, plan.Signed, plan.Requester, plan.Record, session));
            }
            else if (channels.Client(name, plan.Scope) is { } client)
            {
                nodes.Add(new GrpcFederatedNode(name, client, plan.Signed, plan.Requester, options.Value.PeerCallDeadline, plan.Record, session));
            }
            else
            {
                nodes.Add(new UnknownPeerNode(name, plan.Record));
            }
        }

        return (nodes, null);
    }

    /// <summary>
    /// The permit's nodes as learners of a <c>Train</c> run for the caller (each opened over its own stream, this node in process),
    /// with the permit and the requester to charge; or the problem that stops it before any node is asked. Dispose the learners.
    /// </summary>
    public async Task<(LearningPlan? Plan, ProblemHttpResult? Problem)> LearnersAsync(HttpContext context, PermitService permits, CancellationToken cancellationToken)
    {
        var (plan, problem) = await PlanAsync(context, permits, cancellationToken);
        if (plan is null)
        {
            return (null, problem);
        }

        var learners = new List<CoordinatedLearner>();
        foreach (var name in plan.Names)
        {
            learners.Add(name == node.Name ? new LocalServerLearner(name, checks, plan.Signed, plan.Record)
                : channels.Client(name, plan.Scope with { Component = FedAvgComponent.ComponentName }) is { } client ? new GrpcFederatedLearner(name, client, plan.Signed, options.Value.PeerCallDeadline, plan.Record)
                : new UnknownPeerLearner(name, plan.Record));
        }

        return (new LearningPlan(learners, plan.Document, plan.Requester), null);
    }

    private async Task<(Plan? Plan, ProblemHttpResult? Problem)> PlanAsync(HttpContext context, PermitService permits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(permits);
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        var document = await permits.CurrentDocumentAsync(access.Permit, cancellationToken);
        var requester = RequesterOf(document, context.User);
        if (requester is null)
        {
            return (null, Problems.Of(403, "You are not named by account among the permit's data users here; run federated analyses from the SPE that issued the permit.",
                ErrorCodes.FederationRequesterUnnamed));
        }

        var entity = await permits.FindAsync(access.Permit.Id, cancellationToken);
        var signed = await permits.SignedDocumentAsync(entity!, cancellationToken);
        var actor = AuditActors.From(context.User, context);
        var trace = TraceIds.Current(context);
        var projectId = access.Permit.ProjectId;
        var permitId = access.Permit.Id;
        Task Record(NodeTaskRecord r, CancellationToken token) => audit.AppendAsync(new AuditEntry(actor, TaskSent, new AuditResource("federation-task", r.TaskId, projectId),
            r.Outcome == "ok" ? AuditOutcome.Success : AuditOutcome.Denied, null, trace, Details(r, permitId, requester)), token);

        var names = document.Datasets.Select(d => d.Node ?? node.Name).Distinct(StringComparer.Ordinal).OrderBy(n => n == node.Name ? 0 : 1).ToList();
        return (new Plan(document, requester, signed, names, Record, new FederationCallScope(actor, projectId, permitId, null, requester, trace)), null);
    }

    /// <summary>
    /// The caller as the permit names it among its data users (by account), or null. The requester asserted to the peers is this,
    /// never a name taken from the request, so a data user cannot ask the peers in another's name.
    /// </summary>
    public static string? RequesterOf(Core.Permits.PermitDocument document, System.Security.Claims.ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(user);
        var username = user.FindFirst("preferred_username")?.Value;
        return document.DataUsers.FirstOrDefault(u => u.Account is not null && string.Equals(u.Account, username, StringComparison.Ordinal))?.Account;
    }

    /// <summary>Logs how a coordinated analysis ended.</summary>
    public void Finished(string component, string projectId, int nodes, string outcome) => FederationLog.Coordinated(logger, component, projectId, nodes, outcome);

    private static Dictionary<string, string> Details(NodeTaskRecord r, string permitId, string requester)
    {
        var details = new Dictionary<string, string>
        {
            ["node"] = r.Node,
            ["permit"] = permitId,
            ["component"] = r.Component,
            ["requester"] = requester,
            ["outcome"] = r.Outcome,
        };
        if (r.TaskId is not null)
        {
            details["task"] = r.TaskId;
        }

        if (r.Reason is not null)
        {
            details["reason"] = r.Reason.Length > 300 ? r.Reason[..300] : r.Reason;
        }

        return details;
    }

    private sealed record Plan(Core.Permits.PermitDocument Document, string Requester, string Signed, IReadOnlyList<string> Names, Func<NodeTaskRecord, CancellationToken, Task> Record,
        FederationCallScope Scope);

    /// <summary>A node the permit names that this SPE has no address for: it refuses every task with SPE7061.</summary>
    private sealed class UnknownPeerNode(string name, Func<NodeTaskRecord, CancellationToken, Task> record) : Library.IFederatedNode
    {
        public string Name => name;

        public async Task<AnalysisOutcome> RunAsync(string component, string parametersJson, CancellationToken cancellationToken)
        {
            var outcome = AnalysisOutcome.Refused(ErrorCodes.FederationPeerUnknown, $"this SPE has no address for node '{name}' (Federation:Peers)");
            await record(new NodeTaskRecord(name, component, null, ErrorCodes.FederationPeerUnknown, outcome.Refusal!.Message), CancellationToken.None);
            return outcome;
        }
    }
}
