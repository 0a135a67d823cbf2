using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Operations.Incidents;

/// <summary>When a reminder alert fires before each HDAB deadline (section <c>Incidents:Reminders</c>).</summary>
internal sealed class IncidentReminderOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Incidents:Reminders";

    /// <summary>How long before the 24-hour early warning is due (6 hours by default).</summary>
    public TimeSpan EarlyWarningLead { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How long before the 72-hour detailed notification is due (12 hours by default).</summary>
    public TimeSpan DetailedLead { get; set; } = TimeSpan.FromHours(12);

    /// <summary>How long before the one-month final report is due (3 days by default).</summary>
    public TimeSpan FinalLead { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How often open incidents are checked for reminders and overdue stages.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The lead of <paramref name="stage"/>.</summary>
    public TimeSpan LeadOf(string stage) => stage switch
    {
        IncidentStages.EarlyWarning => EarlyWarningLead,
        IncidentStages.Detailed => DetailedLead,
        _ => FinalLead,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EarlyWarningLead <= TimeSpan.Zero || EarlyWarningLead >= TimeSpan.FromHours(24))
        {
            yield return new ValidationResult("Incidents:Reminders:EarlyWarningLead must be more than zero and less than 24 hours.", [nameof(EarlyWarningLead)]);
        }

        if (DetailedLead <= TimeSpan.Zero || DetailedLead >= TimeSpan.FromHours(72))
        {
            yield return new ValidationResult("Incidents:Reminders:DetailedLead must be more than zero and less than 72 hours.", [nameof(DetailedLead)]);
        }

        if (FinalLead <= TimeSpan.Zero || FinalLead >= TimeSpan.FromDays(28))
        {
            yield return new ValidationResult("Incidents:Reminders:FinalLead must be more than zero and less than 28 days.", [nameof(FinalLead)]);
        }

        if (CheckInterval < TimeSpan.FromSeconds(10) || CheckInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Incidents:Reminders:CheckInterval must be between 10 seconds and 1 hour.", [nameof(CheckInterval)]);
        }
    }
}
