using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Transfers;

/// <summary>Upload settings (TIR-5), validated at start: quotas and the free-space reserve included.</summary>
internal sealed class UploadOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Uploads";

    /// <summary>Largest upload accepted (Tus-Max-Size): the per-upload quota.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 1L << 40;

    /// <summary>Most bytes one project may hold: its stored files plus the declared lengths of its unfinished uploads.</summary>
    [Range(1, long.MaxValue)]
    public long MaxProjectBytes { get; set; } = 4L << 40;

    /// <summary>
    /// Free space kept for the audit log and the database on the staging file system: no upload is accepted, or written to,
    /// into it. The reserve is the larger of this and <see cref="MinFreePercent"/>.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MinFreeBytes { get; set; } = 1L << 30;

    /// <summary>The reserve as a share of the file system's size, in percent (see <see cref="MinFreeBytes"/>).</summary>
    [Range(0, 50)]
    public int MinFreePercent { get; set; } = 5;

    /// <summary>How long an unfinished upload is kept.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan Expiration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Uploads verified while they arrive, at once; more run their verification after their last byte.</summary>
    [Range(0, 64)]
    public int MaxStreamingVerifications { get; set; } = 4;

    /// <summary>A verification that receives nothing for this long is dropped (the upload then verifies at completion).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan StreamingVerificationIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often expired uploads and orphaned staging files are removed (<see cref="ExpiredUploadSweeper"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxUploadBytes > MaxProjectBytes)
        {
            yield return new ValidationResult(
                $"Uploads:MaxUploadBytes ({MaxUploadBytes}) is larger than Uploads:MaxProjectBytes ({MaxProjectBytes}): no upload that large could be accepted.",
                [nameof(MaxUploadBytes), nameof(MaxProjectBytes)]);
        }
    }
}
