using OpenSpe.Core.Access.Handlers;

namespace OpenSpe.Core.Access;

/// <summary>
/// The one access decision for everything a project does (OPR-1, SDR-1, SDR-2, EHDSR-3, OPR-20), as an ordered chain of small
/// handlers; the first refusal ends it:
/// action declared → signed in with a second factor (or an application) → no conflicting account roles → named in the
/// project's current permit → not halted → permit in force → permit role allows the action → trained for the role acted in (when required) → dataset holder (dataset-scoped
/// actions) → file-type policy (transfers).
/// The HTTP gate calls it for every <c>{projectId}</c> route; the workspace gateway, the airlock and the federation
/// interceptor are to call it the same way.
/// </summary>
public sealed class AccessChain
{
    private readonly IProjectAccessSource _source;
    private readonly IAccessHandler[] _project;
    private readonly IAccessHandler[] _resource;
    private readonly IAccessHandler[] _commit;

    /// <summary>The chain over the SPE's records, halts and clock, and the training records when the SPE keeps them.</summary>
    public AccessChain(IProjectAccessSource source, IProjectHalts halts, TimeProvider time, ITrainingRecords? training = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(halts);
        ArgumentNullException.ThrowIfNull(time);
        _source = source;
        _project =
        [
            new ActionDeclaredHandler(),
            new SecondFactorHandler(),
            new RoleConflictHandler(),
            new MembershipHandler(source),
            new HaltHandler(halts),
            new PermitInForceHandler(time),
            new RoleAllowsHandler(),
            new TrainingHandler(training, time),
        ];
        _resource = [new DatasetHolderHandler(source), new FileTypeHandler()];
        _commit = [new ActionDeclaredHandler(), new MembershipHandler(source), new PermitInForceHandler(time), new RoleAllowsHandler(), new TrainingHandler(training, time),
            new DatasetHolderHandler(source)];
    }

    /// <summary>The handlers in the order they run.</summary>
    public IReadOnlyList<IAccessHandler> Handlers => [.. _project, .. _resource];

    /// <summary>Runs the whole chain. A grant holds the project's work until disposed.</summary>
    public async Task<AccessDecision> DecideAsync(AccessRequest request, CancellationToken cancellationToken)
    {
        var context = new AccessContext(request, _source);
        var refusal = await RunAsync(_project, context, cancellationToken)
            ?? await RunAsync(_resource, context, cancellationToken);
        if (refusal is null)
        {
            return AccessDecision.Granted(new AccessGrant(context));
        }

        // Note: a refusal after the halt handler registered work must not leave it registered, or a later halt would wait on nothing.
        context.Work?.Dispose();
        return AccessDecision.Refused(refusal);
    }

    /// <summary>
    /// The dataset and file-type steps for a request already granted at project level, for transports that learn the dataset
    /// or the file only after admission (tus names them in the creation request's metadata). Null when allowed.
    /// </summary>
    public async Task<AccessRefusal?> DecideResourceAsync(AccessGrant grant, string? datasetId, FileTransfer? transfer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var context = grant.Context.Narrow(grant.Context.Request with { DatasetId = datasetId, Transfer = transfer });
        return await RunAsync(_resource, context, cancellationToken);
    }

    /// <summary>
    /// The re-decision for a change admitted earlier that is about to become durable (an upload's completion): membership,
    /// permit in force, role, training and the dataset step, read afresh from the permit's state and version in force now and the
    /// training records as of now. Null when allowed.
    /// </summary>
    /// <remarks>
    /// Note: the second-factor and role-conflict steps judged the request that carried the credential; the halt step is the
    /// caller's commit lease. What this re-reads is what the HDAB changes while an upload runs (an amendment that gives the dataset to
    /// another holder or drops it, a suspension, a revocation), because the upload was admitted against the permit of its creation.
    /// </remarks>
    public async Task<AccessRefusal?> DecideCommitAsync(AccessRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await RunAsync(_commit, new AccessContext(request, _source), cancellationToken);
    }

    /// <summary>The ids of the permit's datasets the granted caller holds (SDR-1: a holder sees only those files).</summary>
    public async Task<IReadOnlySet<string>> HeldDatasetsAsync(AccessGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var document = await grant.Context.DocumentAsync(cancellationToken);
        return await DatasetHolders.HeldByAsync(_source, document, grant.Context.Request.Principal.AccountId, cancellationToken);
    }

    private static async Task<AccessRefusal?> RunAsync(IAccessHandler[] handlers, AccessContext context, CancellationToken cancellationToken)
    {
        foreach (var handler in handlers)
        {
            if (await handler.HandleAsync(context, cancellationToken) is { } refusal)
            {
                return refusal;
            }
        }

        return null;
    }
}
