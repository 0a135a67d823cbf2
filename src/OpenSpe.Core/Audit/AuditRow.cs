namespace OpenSpe.Core.Audit;

/// <summary>
/// The flat, stored shape of an audit record: exactly the columns that the canonical form covers.
/// Verification reads rows into one reused instance, so this type is mutable on purpose.
/// </summary>
public sealed class AuditRow
{
    /// <summary>Position in the log.</summary>
    public long Sequence { get; set; }

    /// <summary>Microseconds since the Unix epoch, UTC.</summary>
    public long TimestampMicros { get; set; }

    /// <summary>Actor subject id.</summary>
    public string? ActorSubject { get; set; }

    /// <summary>Actor username.</summary>
    public string? ActorUsername { get; set; }

    /// <summary>Actor roles, space-separated (role names never contain spaces).</summary>
    public string ActorRoles { get; set; } = "";

    /// <summary>OAuth client id.</summary>
    public string? ActorClientId { get; set; }

    /// <summary>Source IP address.</summary>
    public string? SourceIp { get; set; }

    /// <summary>User agent, truncated.</summary>
    public string? UserAgent { get; set; }

    /// <summary>Action name.</summary>
    public string Action { get; set; } = "";

    /// <summary>Resource type.</summary>
    public string? ResourceType { get; set; }

    /// <summary>Resource id.</summary>
    public string? ResourceId { get; set; }

    /// <summary>Project id.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Outcome wire name.</summary>
    public string Outcome { get; set; } = "";

    /// <summary>HTTP status.</summary>
    public int? HttpStatus { get; set; }

    /// <summary>W3C trace id.</summary>
    public string? TraceId { get; set; }

    /// <summary>Details as canonical JSON (an object with keys in ordinal order).</summary>
    public string DetailsJson { get; set; } = "{}";

    /// <summary>The stored chain hash (32 bytes).</summary>
    public byte[] Hash { get; set; } = [];

    /// <summary>Builds the stored shape of an entry at a given place and time (hash not yet set).</summary>
    public static AuditRow FromEntry(long sequence, long timestampMicros, AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new AuditRow
        {
            Sequence = sequence,
            TimestampMicros = timestampMicros,
            ActorSubject = entry.Actor.SubjectId,
            ActorUsername = entry.Actor.Username,
            ActorRoles = string.Join(' ', entry.Actor.Roles),
            ActorClientId = entry.Actor.ClientId,
            SourceIp = entry.Actor.SourceIp,
            UserAgent = entry.Actor.UserAgent,
            Action = entry.Action,
            ResourceType = entry.Resource.Type,
            ResourceId = entry.Resource.Id,
            ProjectId = entry.Resource.ProjectId,
            Outcome = entry.Outcome.ToWire(),
            HttpStatus = entry.HttpStatus,
            TraceId = entry.TraceId,
            DetailsJson = AuditCanonicalForm.SerializeDetails(entry.Details),
        };
    }

    /// <summary>
    /// The entry this row stores (the inverse of <see cref="FromEntry"/>), for a reader that judges records as they were
    /// written, such as the alert rules counting again the records of their windows after a restart.
    /// </summary>
    public AuditEntry ToEntry()
    {
        var details = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(DetailsJson);
        return new AuditEntry(
            new AuditActor(ActorSubject, ActorUsername, ActorRoles.Length == 0 ? [] : ActorRoles.Split(' '), ActorClientId, SourceIp, UserAgent),
            Action,
            new AuditResource(ResourceType, ResourceId, ProjectId),
            AuditOutcomeNames.TryParse(Outcome, out var outcome) ? outcome : throw new FormatException($"audit record {Sequence} has an unknown outcome"),
            HttpStatus,
            TraceId,
            details is { Count: > 0 } ? details : null);
    }

    /// <summary>Returns an independent copy (the verifier reuses one instance while reading).</summary>
    public AuditRow Clone() => (AuditRow)MemberwiseClone();
}
