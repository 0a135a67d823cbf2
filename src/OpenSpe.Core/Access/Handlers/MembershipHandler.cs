using OpenSpe.Core.Identity;

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
        IReadOnlySet<string> named = permit is null ? new HashSet<string>(StringComparer.Ordinal) : await source.NamedRolesAsync(permit, principal, cancellationToken);
        var effective = Membership.Effective(principal, named);
        var oversight = action.Oversight && Membership.IsOversight(principal);
        // Note: an independent reviewer is an output checker the permit names in no role at all, whether or not the account
        // still holds that role: a checker named as a data user (without the researcher account role, or after losing it)
        // belongs to the project and never reviews it. A member who also holds the output-checker role is admitted as a
        // member, and the role step then refuses them (a member never reviews).
        var reviewer = action.Reviewers && named.Count == 0 && !principal.IsApplication && principal.Roles.Contains(SpeRoles.OutputChecker);
        if (permit is null || (effective.Count == 0 && !oversight && !reviewer))
        {
            // Note: the same answer as for a project that does not exist, so a stranger cannot learn that it does.
            return new AccessRefusal(AccessRefusalKind.Hidden, "not-a-member", "There is no such project.");
        }

        context.Permit = permit;
        context.MemberRoles = effective;
        context.AsOversight = oversight && !reviewer && !action.MemberRoles.Any(effective.Contains);
        context.AsReviewer = reviewer;
        return null;
    }
}
