using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>Alert settings (section <c>Alerts</c>).</summary>
internal sealed class AlertOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Alerts";

    /// <summary>Keep the shipped rules (<see cref="DefaultAlertRules"/>).</summary>
    public bool Defaults { get; set; } = true;

    /// <summary>The operator's rules, beside the defaults; one with a default's name replaces it.</summary>
    public List<AlertRule> Rules { get; set; } = [];

    /// <summary>Where a firing alert is posted; none when empty.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>The key of the HMAC-SHA256 signature of each posted body (at least 32 characters); required with a webhook.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Attempts per alert before the webhook gives up (the alert stays in the audit log).</summary>
    [Range(1, 20)]
    public int WebhookAttempts { get; set; } = 6;

    /// <summary>Keys counted per rule at most; beyond, new keys share one (<c>other</c>), so memory stays bounded.</summary>
    [Range(100, 1_000_000)]
    public int MaxKeysPerRule { get; set; } = 10_000;

    /// <summary>The free space the data directory's volume keeps at least (the <c>disk-free-reserve</c> rule's threshold); 2 GiB by default.</summary>
    [Range(1, long.MaxValue)]
    public long DiskReserveBytes { get; set; } = 2L << 30;

    /// <summary>E-mail for fired alerts (<c>Alerts:Smtp:*</c>).</summary>
    public AlertSmtpOptions Smtp { get; set; } = new();

    /// <summary>How often the periodic checks run (free disk, certificate expiry, witness age).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The rules in force: the defaults (unless switched off) and the configured ones, without those with <c>Enabled=false</c>.</summary>
    public IReadOnlyList<AlertRule> InForce()
    {
        var configured = Rules.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        return [.. (Defaults ? DefaultAlertRules.Create(this) : []).Where(r => !configured.Contains(r.Name)), .. Rules.Where(r => r.Enabled)];
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var rule in Rules)
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(rule, new ValidationContext(rule), results, validateAllProperties: true))
            {
                foreach (var result in results)
                {
                    yield return new ValidationResult($"Alerts:Rules '{rule.Name}': {result.ErrorMessage}", [nameof(Rules)]);
                }
            }
        }

        var duplicate = Rules.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            yield return new ValidationResult($"Alerts:Rules names '{duplicate.Key}' more than once.", [nameof(Rules)]);
        }

        foreach (var problem in Smtp.Validate())
        {
            yield return problem;
        }

        if (CheckInterval < TimeSpan.FromSeconds(10) || CheckInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Alerts:CheckInterval must be between 10 seconds and 1 hour.", [nameof(CheckInterval)]);
        }

        if (WebhookUrl is { } url)
        {
            // Note: plain HTTP only to this machine (a local relay); anywhere else the alert would cross the network in clear.
            if (!url.IsAbsoluteUri || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback)))
            {
                yield return new ValidationResult("Alerts:WebhookUrl must be an https:// URL (http:// only to a loopback address).", [nameof(WebhookUrl)]);
            }

            if (WebhookSecret is not { Length: >= 32 })
            {
                yield return new ValidationResult("Alerts:WebhookSecret must be set, at least 32 characters, when Alerts:WebhookUrl is.", [nameof(WebhookSecret)]);
            }
        }
    }
}
