namespace OpenSpe.Core.Access.Handlers;

/// <summary>First: the operation must declare what it does.</summary>
public sealed class ActionDeclaredHandler : IAccessHandler
{
    /// <inheritdoc />
    public ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Note: fail closed, because a project-scoped operation that does not declare its action cannot be judged: it is unreachable.
        return ValueTask.FromResult(context.Request.Action is null
            ? AccessRefusal.Forbidden("undeclared-project-action", "This operation is not available.")
            : null);
    }
}
