namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// An alert that fired: which rule, for which key, with what count, when. <c>RecordedAs</c> is the sequence of the
/// <c>security.alert</c> record a module already wrote for it, which the dispatcher then lists and notifies without writing
/// a second record; null for a rule's firing, which the dispatcher records.
/// </summary>
internal sealed record FiredAlert(string Rule, string GroupBy, string Key, long Value, long Threshold, TimeSpan Window, DateTimeOffset FiredAt, string? Description,
    string? ProjectId, long? RecordedAs = null);
