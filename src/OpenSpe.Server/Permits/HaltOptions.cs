using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Permits;

/// <summary>How halts made on other instances reach this one (section <c>Halts</c>).</summary>
internal sealed class HaltOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Halts";

    /// <summary>How often the halts in force are read from the shared database.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:05")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How old the last successful read may be before this instance refuses every project request (503, SPE3005): the
    /// longest a halt made elsewhere can go unnoticed here.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan StalenessBound { get; set; } = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (StalenessBound <= PollInterval)
        {
            yield return new ValidationResult("Halts:StalenessBound must be longer than Halts:PollInterval.", [nameof(StalenessBound)]);
        }
    }
}
