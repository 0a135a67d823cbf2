namespace OpenSpe.Core.Audit;

/// <summary>How an audited action ended.</summary>
public enum AuditOutcome
{
    /// <summary>The action was carried out.</summary>
    Success,

    /// <summary>The action was refused by a security decision (authentication, authorization, rate limit, validation).</summary>
    Denied,

    /// <summary>The action failed for a reason that was not a security decision.</summary>
    Error,
}

/// <summary>Wire names of <see cref="AuditOutcome"/>, used in the canonical form and in storage.</summary>
public static class AuditOutcomeNames
{
    /// <summary>Returns the lower-case wire name of an outcome.</summary>
    public static string ToWire(this AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Success => "success",
        AuditOutcome.Denied => "denied",
        AuditOutcome.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };

    /// <summary>Parses a wire name; unknown names are rejected rather than guessed.</summary>
    public static bool TryParse(string? value, out AuditOutcome outcome)
    {
        switch (value)
        {
            case "success": outcome = AuditOutcome.Success; return true;
            case "denied": outcome = AuditOutcome.Denied; return true;
            case "error": outcome = AuditOutcome.Error; return true;
            default: outcome = default; return false;
        }
    }

    /// <summary>True when <paramref name="utf8"/> is one of the wire names.</summary>
    public static bool IsKnown(ReadOnlySpan<byte> utf8) =>
        utf8.SequenceEqual("success"u8) || utf8.SequenceEqual("denied"u8) || utf8.SequenceEqual("error"u8);
}
