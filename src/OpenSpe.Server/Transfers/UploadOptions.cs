using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Transfers;

/// <summary>Upload settings (TIR-5).</summary>
public sealed class UploadOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Uploads";

    /// <summary>Largest upload accepted (Tus-Max-Size).</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 1L << 40;

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
}
