namespace OpenSpe.Server.Operations.Training;

/// <summary>Row of <c>training_records</c>: a person's completed role-specific training (OPR-23), as the HDAB or an admin recorded it.</summary>
internal sealed class TrainingRecordEntity
{
    /// <summary>Row id.</summary>
    public long Id { get; set; }

    /// <summary>The trained person's account id (the access chain knows people by id, never by name).</summary>
    public string AccountId { get; set; } = "";

    /// <summary>The role the training is for.</summary>
    public string Role { get; set; } = "";

    /// <summary>The course's name.</summary>
    public string Course { get; set; } = "";

    /// <summary>The day the course was completed.</summary>
    public DateOnly CompletedOn { get; set; }

    /// <summary>The first day the record no longer counts; null when it does not expire.</summary>
    public DateOnly? ExpiresOn { get; set; }

    /// <summary>Account name of who recorded it.</summary>
    public string RecordedBy { get; set; } = "";

    /// <summary>When it was recorded.</summary>
    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>How the record stands on <paramref name="today"/>: <c>valid</c>, <c>expired</c> or <c>not-yet</c>.</summary>
    public string StatusOn(DateOnly today) =>
        CompletedOn > today ? "not-yet" : ExpiresOn is { } expires && expires <= today ? "expired" : "valid";
}
