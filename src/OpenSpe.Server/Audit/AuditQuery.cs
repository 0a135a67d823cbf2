namespace OpenSpe.Server.Audit;

/// <summary>Filters for reading the audit log; every field narrows, null means any.</summary>
/// <param name="Actor">Username or subject id.</param>
/// <param name="Action">Exact action name.</param>
/// <param name="ProjectId">Project id.</param>
/// <param name="SinceMicros">Inclusive lower time bound.</param>
/// <param name="UntilMicros">Exclusive upper time bound.</param>
/// <param name="AfterSequence">Only records after this sequence (keyset paging).</param>
/// <param name="Limit">Most records returned; null for all.</param>
/// <param name="Actions">Any of these exact action names (with <paramref name="Action"/>, a record must match both).</param>
/// <param name="NewestFirst">Highest sequence first, so that a limit keeps the newest records.</param>
internal sealed record AuditQuery(
    string? Actor = null,
    string? Action = null,
    string? ProjectId = null,
    long? SinceMicros = null,
    long? UntilMicros = null,
    long? AfterSequence = null,
    int? Limit = null,
    IReadOnlyList<string>? Actions = null,
    bool NewestFirst = false);
