namespace OpenSpe.Core.Audit;

/// <summary>
/// An audit record as a caller asks for it to be written: everything except the sequence number,
/// the timestamp and the hash, which the log assigns when it appends.
/// </summary>
/// <param name="Actor">Who.</param>
/// <param name="Action">What, as a stable dotted name (e.g. <c>audit.records.list</c>).</param>
/// <param name="Resource">On what.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="HttpStatus">HTTP status answered, when the action was a request.</param>
/// <param name="TraceId">W3C trace id of the request.</param>
/// <param name="Details">A small set of extra facts. Never secrets or data content.</param>
public sealed record AuditEntry(
    AuditActor Actor,
    string Action,
    AuditResource Resource,
    AuditOutcome Outcome,
    int? HttpStatus,
    string? TraceId,
    IReadOnlyDictionary<string, string>? Details = null)
{
    /// <summary>The detail named <paramref name="key"/>, or null when the entry has none.</summary>
    public string? Detail(string key) => Details is not null && Details.TryGetValue(key, out var value) ? value : null;
}

/// <summary>An audit record as stored: an entry plus its place in the chain.</summary>
/// <param name="Sequence">Position in the log, starting at 1, without gaps.</param>
/// <param name="TimestampMicros">UTC time of the append, in microseconds since the Unix epoch.</param>
/// <param name="Entry">The audited facts.</param>
/// <param name="Hash">SHA-256 over the previous record's hash and this record's canonical JSON.</param>
public sealed record AuditRecord(long Sequence, long TimestampMicros, AuditEntry Entry, byte[] Hash)
{
    /// <summary>The append time as a <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset Timestamp => AuditTime.FromMicros(TimestampMicros);
}
