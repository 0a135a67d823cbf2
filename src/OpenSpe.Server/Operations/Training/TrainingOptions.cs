namespace OpenSpe.Server.Operations.Training;

/// <summary>Whether project access needs role-specific training (OPR-23).</summary>
internal sealed class TrainingOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Training";

    /// <summary>
    /// True: the access chain refuses project access to a person without a valid training record for the role they act in.
    /// Unset: true outside dev mode, false in dev mode (whose seeded accounts have no training records).
    /// </summary>
    public bool? Required { get; set; }
}
