using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access.Handlers;

/// <summary>A member acts only while the permit is active and now inside its validity period; oversight reads metadata whatever the state.</summary>
public sealed class PermitInForceHandler(TimeProvider time) : IAccessHandler
{
    /// <inheritdoc />
    public ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.AsOversight)
        {
            return ValueTask.FromResult<AccessRefusal?>(null);
        }

        var permit = context.Permit!;
        // Note: checked on every request against the clock, so access ends exactly at validUntil, before the lifecycle service expires the permit.
        var reason = PermitLifecycle.NotInForceReason(permit.State, permit.ValidFrom, permit.ValidUntil, time.GetUtcNow());
        return ValueTask.FromResult(reason is null
            ? null
            : new AccessRefusal(AccessRefusalKind.PermitNotInForce, reason, $"The permit is not in force ({reason.Replace('-', ' ')})."));
    }
}
