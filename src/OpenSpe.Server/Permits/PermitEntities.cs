using OpenSpe.Core.Permits;

namespace OpenSpe.Server.Permits;

/// <summary>Row of <c>permits</c>: the permit's identity and current state.</summary>
internal sealed class PermitEntity
{
    /// <summary>Permit id.</summary>
    public string Id { get; set; } = "";

    /// <summary>HDAB reference number (unique).</summary>
    public string Reference { get; set; } = "";

    /// <summary>The project the permit owns.</summary>
    public string ProjectId { get; set; } = "";

    /// <summary>Current state.</summary>
    public string State { get; set; } = PermitStates.Active;

    /// <summary>Current version number.</summary>
    public int CurrentVersion { get; set; }

    /// <summary>Title (of the current version).</summary>
    public string Title { get; set; } = "";

    /// <summary>Validity start of the current version.</summary>
    public DateTimeOffset ValidFrom { get; set; }

    /// <summary>Validity end of the current version.</summary>
    public DateTimeOffset ValidUntil { get; set; }

    /// <summary>When it was issued.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Who issued it.</summary>
    public string CreatedBy { get; set; } = "";

    /// <summary>When the state last changed.</summary>
    public DateTimeOffset StateChangedAt { get; set; }

    /// <summary>Why it last changed.</summary>
    public string? StateReason { get; set; }

    /// <summary>When the project was terminated.</summary>
    public DateTimeOffset? TerminatedAt { get; set; }

    /// <summary>Optimistic concurrency token.</summary>
    public Guid Revision { get; set; }
}

/// <summary>Row of <c>permit_versions</c>: every version ever issued, kept.</summary>
internal sealed class PermitVersionEntity
{
    /// <summary>Permit id.</summary>
    public string PermitId { get; set; } = "";

    /// <summary>Version number, from 1.</summary>
    public int Version { get; set; }

    /// <summary>The normalized permit document (JSON).</summary>
    public string DocumentJson { get; set; } = "";

    /// <summary>When it was issued.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Who issued it.</summary>
    public string CreatedBy { get; set; } = "";

    /// <summary>What changed.</summary>
    public string Summary { get; set; } = "";
}

/// <summary>Row of <c>permit_members</c>: the current version's people, for access decisions and listings.</summary>
internal sealed class PermitMemberEntity
{
    /// <summary>Surrogate key.</summary>
    public long Id { get; set; }

    /// <summary>Permit id.</summary>
    public string PermitId { get; set; } = "";

    /// <summary>The member's role in the permit: <c>researcher</c> (data user), <c>data-holder</c>, or <c>application</c> (a data user's application, FCR-7).</summary>
    public string Role { get; set; } = "";

    /// <summary>Local account id (null for an external identity not yet mapped).</summary>
    public string? AccountId { get; set; }

    /// <summary>External issuer.</summary>
    public string? Issuer { get; set; }

    /// <summary>External subject.</summary>
    public string? Subject { get; set; }

    /// <summary>OAuth client id of an application the HDAB named (role <c>application</c>); null for persons.</summary>
    public string? ClientId { get; set; }
}

/// <summary>Row of <c>halts</c>: an emergency halt of one project or of everything (OPR-20).</summary>
internal sealed class HaltEntity
{
    /// <summary>Halt id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Project halted, or null for everything.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Why.</summary>
    public string Reason { get; set; } = "";

    /// <summary>Account id of who halted.</summary>
    public string HaltedBy { get; set; } = "";

    /// <summary>When.</summary>
    public DateTimeOffset HaltedAt { get; set; }

    /// <summary>Account id of who resumed.</summary>
    public string? ResumedBy { get; set; }

    /// <summary>When it was lifted.</summary>
    public DateTimeOffset? ResumedAt { get; set; }
}
