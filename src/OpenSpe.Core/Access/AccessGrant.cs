namespace OpenSpe.Core.Access;

/// <summary>
/// The chain's admission of a request: the permit, the caller's roles in it and whether they act as oversight. Holds the
/// project work the halt handler registered: dispose it when the request ends.
/// </summary>
public sealed class AccessGrant : IDisposable
{
    internal AccessGrant(AccessContext context) => Context = context;

    /// <summary>The permit.</summary>
    public ProjectPermit Permit => Context.Permit!;

    /// <summary>The caller's roles in the permit that count.</summary>
    public IReadOnlySet<string> MemberRoles => Context.MemberRoles;

    /// <summary>True when the caller is admitted only by an oversight role (metadata).</summary>
    public bool AsOversight => Context.AsOversight;

    /// <summary>True when the caller was admitted as an independent reviewer (an output checker outside the permit).</summary>
    public bool AsReviewer => Context.AsReviewer;

    /// <summary>Cancelled when a halt stops the project; never for oversight admitted to a project already halted.</summary>
    public CancellationToken Halted => Context.Work?.Halted ?? CancellationToken.None;

    internal AccessContext Context { get; }

    /// <inheritdoc />
    public void Dispose() => Context.Work?.Dispose();
}

/// <summary>The chain's answer: a grant or a refusal.</summary>
public sealed class AccessDecision
{
    private AccessDecision(AccessGrant? grant, AccessRefusal? refusal)
    {
        Grant = grant;
        Refusal = refusal;
    }

    /// <summary>The grant, or null when refused.</summary>
    public AccessGrant? Grant { get; }

    /// <summary>The refusal, or null when granted.</summary>
    public AccessRefusal? Refusal { get; }

    internal static AccessDecision Granted(AccessGrant grant) => new(grant, null);

    internal static AccessDecision Refused(AccessRefusal refusal) => new(null, refusal);
}
