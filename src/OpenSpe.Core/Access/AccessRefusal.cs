namespace OpenSpe.Core.Access;

/// <summary>The kind of a refusal; each transport maps it to its own status and error code.</summary>
public enum AccessRefusalKind
{
    /// <summary>Not allowed (HTTP 403).</summary>
    Forbidden,

    /// <summary>The project does not exist for this caller (HTTP 404), so its existence does not leak.</summary>
    Hidden,

    /// <summary>The project or everything is halted (HTTP 423).</summary>
    Halted,

    /// <summary>The permit is not in force (HTTP 403 with its own code).</summary>
    PermitNotInForce,

    /// <summary>The halts in force are not known here, so nothing is served (HTTP 503: another instance, or this one later, can).</summary>
    HaltStateUnknown,

    /// <summary>The person has no valid role-specific training record (OPR-23; HTTP 403 with its own code).</summary>
    TrainingMissing,
}

/// <summary>Why the chain refused: the kind, the reason class the audit record keeps, and the message the caller reads.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Reason">The audit reason class, e.g. <c>not-a-member</c>.</param>
/// <param name="Message">The sentence for the caller.</param>
public sealed record AccessRefusal(AccessRefusalKind Kind, string Reason, string Message)
{
    /// <summary>The HTTP status of this refusal.</summary>
    public int Status => Kind switch
    {
        AccessRefusalKind.Hidden => 404,
        AccessRefusalKind.Halted => 423,
        AccessRefusalKind.HaltStateUnknown => 503,
        _ => 403,
    };

    /// <summary>A 403.</summary>
    public static AccessRefusal Forbidden(string reason, string message) => new(AccessRefusalKind.Forbidden, reason, message);
}
