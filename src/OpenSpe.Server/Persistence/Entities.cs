namespace OpenSpe.Server.Persistence;

/// <summary>Row of <c>audit_records</c>; see <see cref="Core.Audit.AuditRow"/> for the meaning of each column.</summary>
internal sealed class AuditRecordEntity
{
    /// <summary>Sequence.</summary>
    public long Sequence { get; set; }

    /// <summary>Timestamp in microseconds.</summary>
    public long TimestampMicros { get; set; }

    /// <summary>Actor subject.</summary>
    public string? ActorSubject { get; set; }

    /// <summary>Actor username.</summary>
    public string? ActorUsername { get; set; }

    /// <summary>Actor roles, space-separated.</summary>
    public string ActorRoles { get; set; } = "";

    /// <summary>OAuth client.</summary>
    public string? ActorClientId { get; set; }

    /// <summary>Source address.</summary>
    public string? SourceIp { get; set; }

    /// <summary>User agent.</summary>
    public string? UserAgent { get; set; }

    /// <summary>Action.</summary>
    public string Action { get; set; } = "";

    /// <summary>Resource type.</summary>
    public string? ResourceType { get; set; }

    /// <summary>Resource id.</summary>
    public string? ResourceId { get; set; }

    /// <summary>Project.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Outcome.</summary>
    public string Outcome { get; set; } = "";

    /// <summary>HTTP status.</summary>
    public int? HttpStatus { get; set; }

    /// <summary>Trace id.</summary>
    public string? TraceId { get; set; }

    /// <summary>Details JSON.</summary>
    public string DetailsJson { get; set; } = "{}";

    /// <summary>Chain hash.</summary>
    public byte[] Hash { get; set; } = [];
}

/// <summary>Row of <c>audit_checkpoints</c>.</summary>
internal sealed class AuditCheckpointEntity
{
    /// <summary>Surrogate key (several checkpoints may cover the same sequence).</summary>
    public long Id { get; set; }

    /// <summary>Last sequence covered.</summary>
    public long Sequence { get; set; }

    /// <summary>Chain hash at that sequence.</summary>
    public byte[] Hash { get; set; } = [];

    /// <summary>Signing time in microseconds.</summary>
    public long TimestampMicros { get; set; }

    /// <summary>Kind.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Signing key id.</summary>
    public string KeyId { get; set; } = "";

    /// <summary>Signature.</summary>
    public byte[] Signature { get; set; } = [];
}

/// <summary>Row of <c>server_settings</c>.</summary>
internal sealed class ServerSettingEntity
{
    /// <summary>Setting name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Setting value.</summary>
    public string Value { get; set; } = "";
}

/// <summary>A request to grant <c>admin</c> or <c>operator</c>: it takes effect only when a second admin approves (OPR-2).</summary>
internal sealed class RoleGrantRequestEntity
{
    /// <summary>Identifier.</summary>
    public string Id { get; set; } = "";

    /// <summary>Account that would receive the role.</summary>
    public string UserId { get; set; } = "";

    /// <summary>The role.</summary>
    public string Role { get; set; } = "";

    /// <summary>Admin who asked.</summary>
    public string RequestedBy { get; set; } = "";

    /// <summary>When it was asked.</summary>
    public DateTimeOffset RequestedAt { get; set; }

    /// <summary><c>pending</c>, <c>approved</c>.</summary>
    public string Status { get; set; } = "pending";

    /// <summary>Admin who approved.</summary>
    public string? DecidedBy { get; set; }

    /// <summary>When it was approved.</summary>
    public DateTimeOffset? DecidedAt { get; set; }
}
