using OpenSpe.Core.Identity;

namespace OpenSpe.Core.Access.Handlers;

/// <summary>An account holding roles that the separation-of-duties table forbids together gets no project access at all.</summary>
public sealed class RoleConflictHandler : IAccessHandler
{
    /// <inheritdoc />
    public ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.Request.Principal;
        // Note: such accounts predate the table (grants now refuse the pair), so the chain refuses them rather than guess which role
        // counts. An application has no account roles, so it never conflicts.
        return ValueTask.FromResult(SeparationOfDuties.Within(principal.Roles) is not null
            ? AccessRefusal.Forbidden("role-conflict", "Your account holds roles that may not be held together: ask an admin to revoke one.")
            : null);
    }
}
