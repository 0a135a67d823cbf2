namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>An alert that fired: which rule, for which key, with what count, when.</summary>
internal sealed record FiredAlert(string Rule, string GroupBy, string Key, long Value, long Threshold, TimeSpan Window, DateTimeOffset FiredAt, string? Description, string? ProjectId);
