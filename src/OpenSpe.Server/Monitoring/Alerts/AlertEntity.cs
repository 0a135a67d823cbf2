using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>Row of <c>alerts</c>: one fired alert, kept so that operators can list and acknowledge it and open an incident from it.</summary>
internal sealed class AlertEntity
{
    private DateTimeOffset _firedAt;

    /// <summary>Alert id (<c>alt-…</c>).</summary>
    public string Id { get; set; } = "";

    /// <summary>The rule that fired.</summary>
    public string Rule { get; set; } = "";

    /// <summary>What the rule counts per (account, source, project, none) or the check's kind.</summary>
    public string GroupBy { get; set; } = "";

    /// <summary>The key it fired for (at most 200 characters).</summary>
    public string Key { get; set; } = "";

    /// <summary>The count, sum or reading that fired it.</summary>
    public long Value { get; set; }

    /// <summary>The rule's threshold.</summary>
    public long Threshold { get; set; }

    /// <summary>The rule's window in seconds.</summary>
    public long WindowSeconds { get; set; }

    /// <summary>When it fired (the server's clock); setting it sets <see cref="FiredAtMicros"/> too.</summary>
    public DateTimeOffset FiredAt
    {
        get => _firedAt;
        set
        {
            _firedAt = value;
            FiredAtMicros = AuditTime.ToMicros(value);
        }
    }

    /// <summary>
    /// <see cref="FiredAt"/> as microseconds since the epoch (UTC). Note: the list orders and pages on this column in the
    /// database, because SQLite cannot order by a <see cref="DateTimeOffset"/> column.
    /// </summary>
    public long FiredAtMicros { get; set; }

    /// <summary>The rule's description.</summary>
    public string? Description { get; set; }

    /// <summary>The project the alert is about, when it has one (an incident opened from it names that project).</summary>
    public string? ProjectId { get; set; }

    /// <summary>The sequence of its <c>security.alert</c> audit record, when the log took it.</summary>
    public long? AuditSequence { get; set; }

    /// <summary><see cref="AlertStates"/>.</summary>
    public string State { get; set; } = AlertStates.Open;

    /// <summary>When an operator acknowledged it.</summary>
    public DateTimeOffset? AcknowledgedAt { get; set; }

    /// <summary>Who acknowledged it.</summary>
    public string? AcknowledgedBy { get; set; }

    /// <summary>The acknowledging operator's note.</summary>
    public string? Note { get; set; }

    /// <summary>The incident opened from this alert.</summary>
    public string? IncidentId { get; set; }

    /// <summary>Concurrency token: two operators acting on one alert at once do not both succeed.</summary>
    public Guid Revision { get; set; }
}

/// <summary>Alert states.</summary>
internal static class AlertStates
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
}
