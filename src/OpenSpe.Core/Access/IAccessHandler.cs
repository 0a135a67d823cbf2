namespace OpenSpe.Core.Access;

/// <summary>One step of the access chain: null lets the request on to the next step; a refusal ends it.</summary>
public interface IAccessHandler
{
    /// <summary>Judges the request.</summary>
    ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken);
}
