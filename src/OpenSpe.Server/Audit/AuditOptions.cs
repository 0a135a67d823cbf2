using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Audit;

/// <summary>Audit log settings. The bounds are the requirement, not a preference: they cannot be configured away.</summary>
internal sealed class AuditOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Audit";

    /// <summary>The shortest retention the law allows (EHDSR-8, OPR-17).</summary>
    public const int MinimumRetentionDays = 365;

    /// <summary>Days a record is kept before <c>spe audit purge</c> may remove it; at least 365.</summary>
    [Range(MinimumRetentionDays, 36_500, ErrorMessage = "Audit:RetentionDays must be at least 365 (EHDSR-8, OPR-17).")]
    public int RetentionDays { get; set; } = 400;

    /// <summary>Sign a checkpoint after at most this many records.</summary>
    [Range(1, 1_000)]
    public int CheckpointEveryRecords { get; set; } = 1_000;

    /// <summary>Sign a checkpoint (or re-sign the unchanged head) at least this often.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Audit:CheckpointInterval must be between 50 ms and 60 s.")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Most records written in one group commit.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 2_048;

    /// <summary>Most appends waiting for the writer before callers are pushed back.</summary>
    [Range(1, 1_000_000)]
    public int MaxPending { get; set; } = 100_000;

    /// <summary>Where each new checkpoint is pushed (<c>Audit:Witnesses:*</c>).</summary>
    public AuditWitnessOptions Witnesses { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Witnesses.Validate();
}
