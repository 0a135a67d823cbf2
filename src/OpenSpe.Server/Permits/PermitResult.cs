namespace OpenSpe.Server.Permits;

/// <summary>Why a caller's permit request was refused; each kind has its own status and code.</summary>
internal enum PermitFailureKind
{
    /// <summary>No such permit (HTTP 404).</summary>
    NotFound,

    /// <summary>Fields failed validation (HTTP 400, <c>SPE1002</c>).</summary>
    Invalid,

    /// <summary>The permit's state does not allow the change (HTTP 409, <c>SPE3003</c>).</summary>
    StateConflict,
}

/// <summary>An expected refusal of a permit request: a result, not an exception, so the endpoint maps every kind explicitly.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Detail">The sentence for the caller.</param>
/// <param name="Errors">Field errors keyed by JSON path (for <see cref="PermitFailureKind.Invalid"/>).</param>
internal sealed record PermitFailure(PermitFailureKind Kind, string Detail, IDictionary<string, string[]>? Errors = null)
{
    /// <summary>No such permit.</summary>
    public static PermitFailure NotFound { get; } = new(PermitFailureKind.NotFound, "There is no such permit.");

    /// <summary>One invalid field.</summary>
    public static PermitFailure Invalid(string field, string message) =>
        new(PermitFailureKind.Invalid, "The permit has invalid fields.", new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A change the permit's state does not allow.</summary>
    public static PermitFailure State(string detail) => new(PermitFailureKind.StateConflict, detail);
}

/// <summary>The permit a request produced, or why it was refused.</summary>
internal sealed class PermitResult
{
    private PermitResult(PermitEntity? permit, PermitFailure? failure)
    {
        Permit = permit;
        Failure = failure;
    }

    /// <summary>The permit, when the request succeeded.</summary>
    public PermitEntity? Permit { get; }

    /// <summary>The refusal, when it did not.</summary>
    public PermitFailure? Failure { get; }

    /// <summary>A success.</summary>
    public static PermitResult Done(PermitEntity permit) => new(permit ?? throw new ArgumentNullException(nameof(permit)), null);

    /// <summary>A refusal.</summary>
    public static PermitResult Failed(PermitFailure failure) => new(null, failure ?? throw new ArgumentNullException(nameof(failure)));
}
