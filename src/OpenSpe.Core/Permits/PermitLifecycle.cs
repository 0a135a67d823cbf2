namespace OpenSpe.Core.Permits;

/// <summary>A change of a permit's state, by the HDAB or by time.</summary>
public enum PermitChange
{
    /// <summary>The HDAB pauses the permit.</summary>
    Suspend,

    /// <summary>The HDAB lifts a suspension.</summary>
    Resume,

    /// <summary>The HDAB withdraws the permit.</summary>
    Revoke,

    /// <summary>The validity period ended.</summary>
    Expire,

    /// <summary>The project shuts after a revocation or expiry.</summary>
    Terminate,

    /// <summary>The grace period after termination ended: keys destroyed, objects deleted.</summary>
    Erase,
}

/// <summary>
/// The permit state machine (EHDSR-3, OPR-5): which change each state allows, and when time makes a change due.
/// <code>
/// active ⇄ suspended ─revoke→ revoked ─→ terminated ─(grace period)→ erased
///   └──── validUntil passed ─→ expired ─┘
/// </code>
/// Pure: the caller persists the state and audits the change.
/// </summary>
public static class PermitLifecycle
{
    /// <summary>The state <paramref name="change"/> leads to, whether or not the current state allows it.</summary>
    public static string TargetOf(PermitChange change) => change switch
    {
        PermitChange.Suspend => PermitStates.Suspended,
        PermitChange.Resume => PermitStates.Active,
        PermitChange.Revoke => PermitStates.Revoked,
        PermitChange.Expire => PermitStates.Expired,
        PermitChange.Terminate => PermitStates.Terminated,
        PermitChange.Erase => PermitStates.Erased,
        _ => throw new ArgumentOutOfRangeException(nameof(change), change, null),
    };

    /// <summary>True when a permit in <paramref name="state"/> may undergo <paramref name="change"/>.</summary>
    public static bool Allows(string state, PermitChange change) => change switch
    {
        PermitChange.Suspend => state == PermitStates.Active,
        PermitChange.Resume => state == PermitStates.Suspended,
        // Note: only a live permit ends by revocation or expiry, so a project is terminated once, by one cause.
        PermitChange.Revoke or PermitChange.Expire => IsLive(state),
        PermitChange.Terminate => state is PermitStates.Revoked or PermitStates.Expired,
        PermitChange.Erase => state == PermitStates.Terminated,
        _ => false,
    };

    /// <summary>True when a new version may be issued: only while the permit is active or suspended.</summary>
    public static bool CanAmend(string state) => IsLive(state);

    /// <summary>True for the states a permit can still return to force from (active, suspended).</summary>
    public static bool IsLive(string state) => state is PermitStates.Active or PermitStates.Suspended;

    /// <summary>True when time has ended a live permit: its validity ends at <paramref name="validUntil"/>, exclusive.</summary>
    public static bool IsExpiryDue(string state, DateTimeOffset validUntil, DateTimeOffset now) => IsLive(state) && validUntil <= now;

    /// <summary>True when a terminated project's grace period is over and it must be erased.</summary>
    public static bool IsErasureDue(string state, DateTimeOffset? terminatedAt, TimeSpan gracePeriod, DateTimeOffset now) =>
        state == PermitStates.Terminated && terminatedAt is { } at && at + gracePeriod <= now;

    /// <summary>When time next changes this permit (expiry or erasure), or null when nothing more is due.</summary>
    public static DateTimeOffset? DueAt(string state, DateTimeOffset validUntil, DateTimeOffset? terminatedAt, TimeSpan gracePeriod) =>
        IsLive(state) ? validUntil
        : state == PermitStates.Terminated && terminatedAt is { } at ? at + gracePeriod
        : null;

    /// <summary>
    /// Why the permit is not in force at <paramref name="now"/> — the audit reason class <c>permit-STATE</c>,
    /// <c>permit-not-yet-valid</c> or <c>permit-expired</c> — or null when it is: active, and
    /// <paramref name="validFrom"/> ≤ now &lt; <paramref name="validUntil"/>.
    /// </summary>
    public static string? NotInForceReason(string state, DateTimeOffset validFrom, DateTimeOffset validUntil, DateTimeOffset now) =>
        state != PermitStates.Active ? "permit-" + state
        : now < validFrom ? "permit-not-yet-valid"
        : now >= validUntil ? "permit-expired"
        : null;
}
