namespace OpenSpe.Core.Access.Handlers;

/// <summary>A person must have signed in with a second factor; an application stands on its own credentials.</summary>
public sealed class SecondFactorHandler : IAccessHandler
{
    /// <inheritdoc />
    public ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.Request.Principal;
        return ValueTask.FromResult(!principal.HasSecondFactor && !principal.IsApplication
            ? AccessRefusal.Forbidden("mfa-required", "Project access needs a sign-in with a second factor.")
            : null);
    }
}
