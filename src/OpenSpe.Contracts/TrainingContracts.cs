using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>
/// Records a person's completed role-specific training (OPR-23). Dates are calendar days (<c>yyyy-MM-dd</c>, UTC); a record
/// counts from <see cref="Completed"/> and, with <see cref="Expires"/>, up to the day before it.
/// </summary>
public sealed record TrainingRecordRequest(
    [property: Required, StringLength(256, MinimumLength = 1)] string Account,
    [property: Required, StringLength(32, MinimumLength = 1)] string Role,
    [property: Required, StringLength(200, MinimumLength = 3)] string Course,
    [property: Required, StringLength(10, MinimumLength = 10)] string Completed,
    [property: StringLength(10, MinimumLength = 10)] string? Expires = null);

/// <summary>
/// One training record. <see cref="Status"/> on the server's current day: <c>valid</c>, <c>expired</c>, or <c>not-yet</c>
/// (completion recorded for a later day cannot happen; kept for records read across a clock change).
/// </summary>
public sealed record TrainingRecordView(
    long Id,
    string Account,
    string AccountId,
    string Role,
    string Course,
    string Completed,
    string? Expires,
    string Status,
    string RecordedBy,
    DateTimeOffset RecordedAt);
