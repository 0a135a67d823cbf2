using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Federation;

/// <summary>A task a node accepted to run: the verified permit, the local project and the datasets held here, the analysis.</summary>
internal sealed record AdmittedTask(FederatedPermit Permit, string ProjectId, IReadOnlyList<string> Datasets, IFederatedAnalysis Analysis, string Requester = "");

/// <summary>Why a node refused a task: the gRPC status, the SPE code and a message for the coordinator.</summary>
internal sealed record TaskRefusal(StatusCode Status, string Code, string Message)
{
    public RpcException ToException() => new(new Status(Status, $"{Code} {Message}"), new Metadata { { "spe-code", Code } });
}

/// <summary>
/// Who asks a node for a task: a peer, by the node name its admitted certificate carries, or this SPE itself
/// (<see cref="ThisNode"/>) for its own share of an analysis it coordinates (<see cref="LocalServerNode"/>).
/// </summary>
internal readonly record struct TaskCaller
{
    private TaskCaller(string? peer) => Peer = peer;

    /// <summary>The calling peer's node name; null for this SPE.</summary>
    public string? Peer { get; }

    /// <summary>This SPE, coordinating.</summary>
    public static TaskCaller ThisNode => default;

    /// <summary>A peer, by its certificate's node name.</summary>
    public static TaskCaller FromPeer(string peer) => new(string.IsNullOrEmpty(peer) ? throw new ArgumentException("a peer has a name", nameof(peer)) : peer);

    /// <inheritdoc />
    public override string ToString() => Peer is null ? "this node" : $"node '{Peer}'";
}

/// <summary>
/// What a node checks before it runs anything for a peer (FSPER-3, FSPER-4, FCR-3, FCR-4), in order, the first failure refusing:
/// the permit's signature (a trusted issuer) → the caller is the permit's coordinator (the node of the issuer's SPE,
/// <see cref="TrustedPermitIssuer.Node"/>; this SPE alone for a permit its own HDAB signed) → the permit in force as signed (active, within its validity) → a local project
/// for it here (issued or imported), active and not halted → the requester is a data user of the permit → this node holds a
/// dataset of it → the component is in the permit's <c>approvedComponents</c> → and in this node's
/// <c>Federation:AllowedComponents</c> → and this node has it → and an <c>approvedComponents</c> entry of its name carries the
/// version and SHA-256 of what this node runs for it (<see cref="FederatedComponentIdentity"/>). Identity, data and code are each
/// checked here, whatever the coordinator checked.
/// </summary>
internal sealed class FederatedTaskChecks(
    FederatedPermitVerifier verifier,
    FederationNodeIdentity node,
    IEnumerable<IFederatedAnalysis> analyses,
    IOptions<FederationOptions> options,
    HaltRegistry halts,
    IServiceScopeFactory scopes,
    TimeProvider time)
{
    private readonly Dictionary<string, IFederatedAnalysis> _analyses = analyses.ToDictionary(a => a.Component, StringComparer.Ordinal);

    /// <summary>The components this node runs: registered here and allowed by its operator.</summary>
    public IReadOnlyList<string> Components => [.. options.Value.AllowedComponents.Where(_analyses.ContainsKey).Order(StringComparer.Ordinal)];

    /// <summary>
    /// What this node runs for each component (the runner's identity, which every registered component shares); null when the build
    /// has no runner manifest, and then no task passes.
    /// </summary>
    public FederatedComponentIdentity? Identity { get; init; } = FederatedComponentIdentity.Runner;

    /// <summary>Verifies the permit alone (signature, in force); the datasets of it held here.</summary>
    public async Task<(FederatedPermit? Permit, IReadOnlyList<string> Held, TaskRefusal? Refusal)> PermitAsync(string jws)
    {
        var (permit, reason) = await verifier.VerifyAsync(jws);
        if (permit is null)
        {
            return (null, [], new(StatusCode.PermissionDenied, ErrorCodes.FederationPermitUntrusted, reason!));
        }

        return InForce(permit) is { } refusal ? (permit, [], refusal) : (permit, HeldHere(permit), null);
    }

    /// <summary>Runs every check for a task <paramref name="caller"/> asks for; the admitted task, or the first refusal.</summary>
    public async Task<(AdmittedTask? Task, TaskRefusal? Refusal)> AdmitAsync(TaskCaller caller, string jws, string requester, string component, CancellationToken cancellationToken)
    {
        var (permit, reason) = await verifier.VerifyAsync(jws);
        if (permit is null)
        {
            return (null, new(StatusCode.PermissionDenied, ErrorCodes.FederationPermitUntrusted, reason!));
        }

        // Note: right after the signature and before anything else is looked at, because only the SPE whose HDAB signed the permit
        // coordinates it (its researchers sign in there): a peer that merely holds a copy of the JWS (every node of the permit
        // does) must not run this node's share under a requester it chose, nor learn more about the permit here than that.
        if (CoordinatorRefusal(caller, permit) is { } notCoordinator)
        {
            return (null, notCoordinator);
        }

        if (InForce(permit) is { } notInForce)
        {
            return (null, notInForce);
        }

        var held = HeldHere(permit);
        var local = await LocalPermitAsync(permit.Document.Reference, cancellationToken);
        if (local is null)
        {
            return (null, new(StatusCode.FailedPrecondition, ErrorCodes.FederationPermitNotHere, "the permit has no project at this node (import it with 'spe permit import')"));
        }

        if (local.Value.State != PermitStates.Active)
        {
            return (null, new(StatusCode.FailedPrecondition, ErrorCodes.FederationPermitNotInForce, $"the permit is {local.Value.State} at this node"));
        }

        // Note: the halt registry answers "halted" while it cannot tell (stale), so a node that lost its database runs nothing.
        if (halts.IsHalted(local.Value.ProjectId))
        {
            return (null, new(StatusCode.FailedPrecondition, ErrorCodes.FederationHalted, "the project or this SPE is halted"));
        }

        if (!IsDataUser(permit.Document, requester))
        {
            return (null, new(StatusCode.PermissionDenied, ErrorCodes.FederationRequesterNotInPermit, "the requester is not a data user of the permit"));
        }

        if (held.Count == 0)
        {
            return (null, new(StatusCode.FailedPrecondition, ErrorCodes.FederationNoLocalDataset, "this node holds no dataset of the permit"));
        }

        if (permit.Document.Policies?.ApprovedComponents?.Any(c => string.Equals(c.Name, component, StringComparison.Ordinal)) != true)
        {
            return (null, new(StatusCode.PermissionDenied, ErrorCodes.FederationComponentNotApproved, $"the permit does not approve component '{component}'"));
        }

        if (!options.Value.AllowedComponents.Contains(component, StringComparer.Ordinal))
        {
            return (null, new(StatusCode.PermissionDenied, ErrorCodes.FederationComponentNotAllowed, $"this node's operator does not allow component '{component}'"));
        }

        if (!_analyses.TryGetValue(component, out var analysis))
        {
            return (null, new(StatusCode.NotFound, ErrorCodes.FederationComponentUnknown, $"this node has no component '{component}'"));
        }

        // Note: a permit may list several builds of one name (an HDAB approving the next release ahead of an upgrade); any entry
        // whose version and SHA-256 are this node's passes.
        var entries = permit.Document.Policies!.ApprovedComponents!.Where(c => string.Equals(c.Name, component, StringComparison.Ordinal)).ToList();
        if (Identity is not { } identity)
        {
            return (null, new(StatusCode.PermissionDenied, ErrorCodes.FederationComponentIdentityMismatch,
                $"this node's build has no runner manifest, so it cannot show what it would run for '{component}'"));
        }

        if (!entries.Any(identity.IsApprovedBy))
        {
            return (null, new(StatusCode.PermissionDenied, ErrorCodes.FederationComponentIdentityMismatch,
                $"the permit approves '{component}' as {string.Join(", ", entries.Select(e => $"version {e.Version} SHA-256 {e.Sha256}"))}; this node runs version {identity.Version} SHA-256 {identity.Sha256}"));
        }

        return (new AdmittedTask(permit, local.Value.ProjectId, held, analysis, requester), null);
    }

    /// <summary>Null when <paramref name="caller"/> is the node that coordinates <paramref name="permit"/>; the refusal otherwise.</summary>
    private static TaskRefusal? CoordinatorRefusal(TaskCaller caller, FederatedPermit permit)
    {
        if (string.Equals(caller.Peer, permit.Coordinator, StringComparison.Ordinal))
        {
            return null;
        }

        var message = permit.Coordinator is null
            ? $"the calling {caller} does not coordinate this permit: this SPE's own HDAB issued it, so only this SPE coordinates it"
            : $"the calling {caller} does not coordinate this permit: its issuer {permit.Issuer} is coordinated by node '{permit.Coordinator}' (Federation:TrustedPermitIssuers)";
        return new(StatusCode.PermissionDenied, ErrorCodes.FederationNotCoordinator, message);
    }

    private TaskRefusal? InForce(FederatedPermit permit)
    {
        var now = time.GetUtcNow();
        return permit.State != PermitStates.Active || now < permit.Document.ValidFrom || now >= permit.Document.ValidUntil
            ? new(StatusCode.FailedPrecondition, ErrorCodes.FederationPermitNotInForce, $"the permit is {permit.State} and valid {permit.Document.ValidFrom:u} to {permit.Document.ValidUntil:u}")
            : null;
    }

    /// <summary>The permit's datasets this node holds: named with this node's name, or unnamed in a permit this SPE issued.</summary>
    private List<string> HeldHere(FederatedPermit permit) =>
        [.. permit.Document.Datasets
            .Where(d => d.Node is null ? string.Equals(permit.Issuer, node.Issuer, StringComparison.Ordinal) : string.Equals(d.Node, node.Name, StringComparison.Ordinal))
            .Select(d => d.Id)];

    private static bool IsDataUser(PermitDocument document, string requester) =>
        !string.IsNullOrEmpty(requester) && document.DataUsers.Any(u =>
            string.Equals(u.Account, requester, StringComparison.Ordinal) || string.Equals(u.Subject, requester, StringComparison.Ordinal));

    private async Task<(string ProjectId, string State)?> LocalPermitAsync(string reference, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var local = await database.Permits.AsNoTracking().Where(p => p.Reference == reference).Select(p => new { p.ProjectId, p.State }).FirstOrDefaultAsync(cancellationToken);
        return local is null ? null : (local.ProjectId, local.State);
    }
}
