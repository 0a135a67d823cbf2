using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>Acknowledges an alert: the operator says they have seen it and what they did.</summary>
public sealed record AlertAcknowledgeRequest([property: Required, StringLength(2000, MinimumLength = 3)] string Note);

/// <summary>Opens an incident from an alert in one step: its severity, optionally a title (else one from the alert).</summary>
public sealed record AlertIncidentRequest(
    [property: Required, StringLength(16)] string Severity,
    [property: StringLength(200, MinimumLength = 3)] string? Title = null);

/// <summary>
/// A fired alert as stored: which rule, for what key (an account, address, project, certificate, file or incident stage),
/// the value that fired it, its state (<c>open</c> or <c>acknowledged</c>) and the incident opened from it, if any.
/// </summary>
public sealed record AlertView(
    string Id,
    string Rule,
    string GroupBy,
    string Key,
    long Value,
    long Threshold,
    long WindowSeconds,
    DateTimeOffset FiredAt,
    string? Description,
    string? ProjectId,
    long? AuditSequence,
    string State,
    DateTimeOffset? AcknowledgedAt,
    string? AcknowledgedBy,
    string? Note,
    string? IncidentId);

/// <summary>
/// A page of fired alerts, newest first. <c>NextBefore</c> is the id of the page's last alert when more follow: pass it as
/// <c>before</c> for the next page; it is null on the last page.
/// </summary>
public sealed record AlertPage(IReadOnlyList<AlertView> Items, string? NextBefore);

/// <summary>
/// An alert rule in force (the shipped defaults not switched off, and the operator's own): what it counts (an audit action with
/// its outcome) or checks on a timer (<paramref name="Check"/>), per what key, and the count within the window that fires it.
/// </summary>
/// <param name="Name">The rule's name, as fired alerts carry it.</param>
/// <param name="Check">The periodic check as configuration names it (<c>DiskFree</c>, <c>CertificateExpiry</c>, ...), or null for a rule counting audit records.</param>
/// <param name="Action">The audit action counted (exactly or with <c>*</c>); null for a check.</param>
/// <param name="Outcome">The outcome counted (<c>success</c>, <c>denied</c>, <c>error</c>), or null for any.</param>
/// <param name="GroupBy"><c>account</c>, <c>source</c>, <c>project</c> or <c>none</c>.</param>
/// <param name="Threshold">The count (or sum, or for latency checks the milliseconds) that fires it.</param>
/// <param name="Window">The sliding window.</param>
/// <param name="Description">What a person reads when it fires.</param>
public sealed record AlertRuleView(string Name, string? Check, string? Action, string? Outcome, string GroupBy, long Threshold, TimeSpan Window, string? Description);
