namespace OpenSpe.Core.Access.Handlers;

/// <summary>
/// The project must exist and the caller be named in its current permit in a role that counts (<see cref="Membership.Effective"/>),
/// or hold an oversight role for a metadata action; otherwise the project does not exist for them (404).
/// </summary>
public sealed class MembershipHandler(IProjectAccessSource source) : IAccessHandler
{
    /// <inheritdoc />
    public async ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.Request.Principal;
        var action = context.Action;
        var permit = await source.FindPermitAsync(context.Request.ProjectId, cancellationToken);
        var effective = permit is null
            ? new HashSet<string>(StringComparer.Ordinal)
            : Membership.Effective(principal, await source.NamedRolesAsync(permit, principal, cancellationToken));
        var oversight = action.Oversight && Membership.IsOversight(principal);
        if (permit is null || (effective.Count == 0 && !oversight))
        {
            // Note: the same answer as for a project that does not exist, so a stranger cannot learn that it does.
            return new AccessRefusal(AccessRefusalKind.Hidden, "not-a-member", "There is no such project.");
        }

        context.Permit = permit;
        context.MemberRoles = effective;
        context.AsOversight = oversight && !action.MemberRoles.Any(effective.Contains);
        return null;
    }
}
