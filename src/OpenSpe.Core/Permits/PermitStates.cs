namespace OpenSpe.Core.Permits;

/// <summary>Permit states. A project follows its permit's state.</summary>
public static class PermitStates
{
    /// <summary>In force (access still needs the validity window).</summary>
    public const string Active = "active";

    /// <summary>Paused by the HDAB; may be resumed.</summary>
    public const string Suspended = "suspended";

    /// <summary>Past its validity; terminated at once.</summary>
    public const string Expired = "expired";

    /// <summary>Withdrawn by the HDAB; terminated at once.</summary>
    public const string Revoked = "revoked";

    /// <summary>The project is shut: no access, no transfers; data kept until the grace period ends.</summary>
    public const string Terminated = "terminated";

    /// <summary>Keys destroyed and objects deleted.</summary>
    public const string Erased = "erased";
}
