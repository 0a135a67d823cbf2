using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Airlock;

/// <summary>Airlock settings (section <c>Airlock</c>).</summary>
internal sealed class AirlockOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Airlock";

    /// <summary>Largest file an export or import may carry, in bytes (the automatic checks read a file whole).</summary>
    [Range(1, 1L << 34)]
    public long MaxFileBytes { get; set; } = 256L << 20;

    /// <summary>
    /// Largest body of one import request (all its files and fields), in bytes. Raised above <c>Api:MaxRequestBodyBytes</c> only
    /// for a member the access chain admitted to ask for imports.
    /// </summary>
    [Range(1024, 1L << 36)]
    public long MaxImportRequestBytes { get; set; } = 256L << 20;

    /// <summary>Distinct approvals an import file needs (SPER-3: one reviewer unless the operator asks for more).</summary>
    [Range(1, 5)]
    public int ImportReviewersRequired { get; set; } = 1;
}
