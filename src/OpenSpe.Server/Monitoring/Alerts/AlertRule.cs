using System.ComponentModel.DataAnnotations;
using System.Globalization;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>What an alert rule counts its threshold per.</summary>
internal enum AlertGroup
{
    /// <summary>The acting account (user name; the subject id when there is none).</summary>
    Account,

    /// <summary>The source address.</summary>
    Source,

    /// <summary>The project the record is about.</summary>
    Project,

    /// <summary>Everything together.</summary>
    None,
}

/// <summary>
/// A condition a rule checks on a timer instead of counting audit records (<see cref="PeriodicAlertChecks"/>): the key is
/// what the condition is about (the data directory, a certificate, a witness file).
/// </summary>
internal enum AlertCheck
{
    /// <summary>Not a periodic check: the rule counts audit records.</summary>
    None,

    /// <summary>Free bytes of the data directory's volume below <see cref="AlertRule.Threshold"/>.</summary>
    DiskFree,

    /// <summary>The server's TLS certificate or the federation node certificate expires within <see cref="AlertRule.Window"/>.</summary>
    CertificateExpiry,

    /// <summary>An audit witness file not written for longer than <see cref="AlertRule.Window"/>.</summary>
    WitnessAge,

    /// <summary>
    /// The API's latency objective (TIR-15): within <see cref="AlertRule.Window"/>, the <see cref="AlertRule.Quantile"/> of
    /// request durations is above <see cref="AlertRule.Threshold"/> milliseconds, over at least <see cref="AlertRule.MinimumCount"/>
    /// requests. Streaming endpoints and the routes in <see cref="AlertRule.Exclude"/> do not count.
    /// </summary>
    RequestLatency,

    /// <summary>The same for the federation calls served, per peer (TIR-35); <see cref="AlertRule.Exclude"/> names gRPC methods.</summary>
    FederationLatency,

    /// <summary>
    /// The same for the federation calls this node makes, per peer called (TIR-35): the duration the caller waited,
    /// network and the peer's work included; <see cref="AlertRule.Exclude"/> names gRPC methods.
    /// </summary>
    FederationClientLatency,

    /// <summary>
    /// The audit log's durability objective (TIR-15): the <see cref="AlertRule.Quantile"/> of the time from handing a record
    /// to the writer to its durable commit, within <see cref="AlertRule.Window"/>, above <see cref="AlertRule.Threshold"/> ms.
    /// </summary>
    AuditLatency,

    /// <summary>
    /// A readiness check behind <c>/readyz</c> (the database, the audit log, the halts) fails at a periodic check: the
    /// availability objective is being spent (TIR-15). The key is the failing check's name; <see cref="AlertRule.Window"/> is unused.
    /// </summary>
    Readiness,

    /// <summary>
    /// Scheduled backups (<c>Backup:Interval</c>) overdue: the newest <c>backup.created</c> record, or the server's start when
    /// there is none, is older than the interval plus <see cref="AlertRule.Window"/>. Never fires without scheduled backups.
    /// </summary>
    BackupAge,

    /// <summary>
    /// Restore drills overdue (OPR-27): the newest successful <c>backup.drill</c> record, or with none the oldest
    /// <c>backup.created</c>, is older than <see cref="AlertRule.Window"/>.
    /// </summary>
    DrillAge,
}

/// <summary>
/// One alert rule (section <c>Alerts:Rules:N</c>): audit records that match it are counted (or a numeric detail summed)
/// per <see cref="GroupBy"/> key within a sliding <see cref="Window"/>; reaching <see cref="Threshold"/> fires it once,
/// and the count for that key starts again.
/// </summary>
internal sealed class AlertRule : IValidatableObject
{
    /// <summary>Unique name; a configured rule with a default rule's name replaces it.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,63}$")]
    public string Name { get; set; } = "";

    /// <summary>The audit action, exactly or as a pattern with <c>*</c> for any run of characters (<c>*.clipboard.*.dropped</c>); required unless <see cref="Check"/> is set.</summary>
    public string Action { get; set; } = "";

    /// <summary>A periodic check instead of counting audit records (<see cref="AlertCheck"/>).</summary>
    public AlertCheck Check { get; set; } = AlertCheck.None;

    /// <summary>False switches the rule off (a configured rule with a default's name and <c>Enabled=false</c> switches the default off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Only records with this outcome (<c>success</c>, <c>denied</c>, <c>error</c>); any when empty.</summary>
    public string? Outcome { get; set; }

    /// <summary>Only records with this HTTP status; any when empty.</summary>
    public int? HttpStatus { get; set; }

    /// <summary>Only records whose <c>reason</c> detail is one of these; any when empty.</summary>
    public List<string> Reasons { get; set; } = [];

    /// <summary>Only records whose details hold each of these key-value pairs.</summary>
    public Dictionary<string, string> Details { get; set; } = [];

    /// <summary>Count per this key.</summary>
    public AlertGroup GroupBy { get; set; } = AlertGroup.Account;

    /// <summary>Sum this numeric detail instead of counting records (a record without it adds 1).</summary>
    public string? SumDetail { get; set; }

    /// <summary>The count (or sum) that fires the rule.</summary>
    [Range(1, long.MaxValue)]
    public long Threshold { get; set; } = 1;

    /// <summary>The sliding window.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>What a person reads when it fires.</summary>
    public string? Description { get; set; }

    /// <summary>Latency checks only: the quantile compared with the objective (0.99 for p99, the default).</summary>
    public double? Quantile { get; set; }

    /// <summary>Latency checks only: the requests (or calls) the window must hold before it can fire (100 by default), so an idle server never does.</summary>
    public long? MinimumCount { get; set; }

    /// <summary>Latency checks only: route patterns (API) or gRPC method names (federation) that do not count, exactly or with <c>*</c>.</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>Whether this is a latency objective check (<see cref="Threshold"/> in milliseconds).</summary>
    public bool IsLatency => Check is AlertCheck.RequestLatency or AlertCheck.FederationLatency or AlertCheck.FederationClientLatency or AlertCheck.AuditLatency;

    /// <summary>The quantile in force.</summary>
    public double LatencyQuantile => Quantile ?? 0.99;

    /// <summary>The minimum count in force.</summary>
    public long LatencyMinimumCount => MinimumCount ?? 100;

    private Wildcard? _action;

    /// <summary>The value <paramref name="entry"/> adds to this rule's count, or null when it does not match.</summary>
    public long? Match(AuditEntry entry)
    {
        if (Check != AlertCheck.None)
        {
            return null;
        }

        _action ??= new Wildcard(Action);
        if (!_action.IsMatch(entry.Action)
            || (Outcome is { Length: > 0 } outcome && !string.Equals(outcome, OutcomeName(entry.Outcome), StringComparison.Ordinal))
            || (HttpStatus is { } status && entry.HttpStatus != status)
            || (Reasons.Count > 0 && !Reasons.Contains(entry.Detail("reason") ?? "", StringComparer.Ordinal))
            || Details.Any(d => entry.Detail(d.Key) != d.Value))
        {
            return null;
        }

        return SumDetail is null ? 1
            : long.TryParse(entry.Detail(SumDetail), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 1;
    }

    /// <summary>The key <paramref name="entry"/> is counted under, or null when the record has none (not counted).</summary>
    public string? KeyOf(AuditEntry entry) => GroupBy switch
    {
        AlertGroup.Account => entry.Actor.Username ?? entry.Actor.SubjectId,
        AlertGroup.Source => entry.Actor.SourceIp,
        AlertGroup.Project => entry.Resource.ProjectId,
        _ => "*",
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Check == AlertCheck.None && string.IsNullOrWhiteSpace(Action))
        {
            yield return new ValidationResult($"Alert rule '{Name}': Action is required (or a Check).", [nameof(Action)]);
        }

        if (Window <= TimeSpan.Zero || Window > TimeSpan.FromDays(31))
        {
            yield return new ValidationResult($"Alert rule '{Name}': Window must be more than zero and at most 31 days.", [nameof(Window)]);
        }

        if (!IsLatency && (Quantile is not null || MinimumCount is not null || Exclude.Count > 0))
        {
            yield return new ValidationResult($"Alert rule '{Name}': Quantile, MinimumCount and Exclude apply only to Check=RequestLatency, FederationLatency, FederationClientLatency or AuditLatency.", [nameof(Quantile)]);
        }

        if (Quantile is { } quantile && !(quantile >= 0.5 && quantile < 1))
        {
            yield return new ValidationResult($"Alert rule '{Name}': Quantile must be at least 0.5 and less than 1 (0.99 for p99).", [nameof(Quantile)]);
        }

        if (MinimumCount is < 1)
        {
            yield return new ValidationResult($"Alert rule '{Name}': MinimumCount must be at least 1.", [nameof(MinimumCount)]);
        }

        if (IsLatency && (Window < TimeSpan.FromMinutes(1) || Window > TimeSpan.FromDays(1)))
        {
            // Note: the window is kept in thirty slices; under a minute they would be shorter than the check interval allows to see.
            yield return new ValidationResult($"Alert rule '{Name}': a latency check's Window must be between 1 minute and 1 day.", [nameof(Window)]);
        }

        if (IsLatency && Threshold > 3_600_000)
        {
            yield return new ValidationResult($"Alert rule '{Name}': a latency check's Threshold is in milliseconds and at most 3600000 (an hour).", [nameof(Threshold)]);
        }

        if (Outcome is { Length: > 0 } outcome && outcome is not ("success" or "denied" or "error"))
        {
            yield return new ValidationResult($"Alert rule '{Name}': Outcome must be success, denied or error.", [nameof(Outcome)]);
        }
    }

    private static string OutcomeName(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Success => "success",
        AuditOutcome.Denied => "denied",
        _ => "error",
    };
}
