namespace OpenSpe.Core.Access.Handlers;

/// <summary>The caller's role in the permit must be one the action allows.</summary>
public sealed class RoleAllowsHandler : IAccessHandler
{
    /// <inheritdoc />
    public ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(!context.AsOversight && !context.AsReviewer && !context.Action.MemberRoles.Any(context.MemberRoles.Contains)
            ? AccessRefusal.Forbidden("permit-role", "Your role in this permit does not allow this.")
            : null);
    }
}
