namespace OpenSpe.Core.Access;

/// <summary>How a person stands with their role-specific training (OPR-23) on a given day.</summary>
public enum TrainingStanding
{
    /// <summary>A completed record for one of the roles, not expired.</summary>
    Valid,

    /// <summary>No completed record for any of the roles.</summary>
    Missing,

    /// <summary>Records exist for the roles, but every one has expired.</summary>
    Expired,
}

/// <summary>The training records (OPR-23) as the access chain sees them; the server implements it over its database.</summary>
public interface ITrainingRecords
{
    /// <summary>True when project access needs a valid training record (<c>Training:Required</c>).</summary>
    bool Required { get; }

    /// <summary>How the account stands on <paramref name="today"/> for any of <paramref name="roles"/>.</summary>
    Task<TrainingStanding> StandingAsync(string accountId, IReadOnlyCollection<string> roles, DateOnly today, CancellationToken cancellationToken);
}
