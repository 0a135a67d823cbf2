using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Operations.Training;

/// <summary>The training records over the database, as the access chain's port.</summary>
internal sealed class TrainingRecords(SpeDbContext database, IOptions<TrainingOptions> options, IOptions<ServerOptions> server) : ITrainingRecords
{
    /// <inheritdoc />
    // Note: on by default outside dev mode, because an SPE in production must not let untrained people in by forgetting a setting.
    public bool Required => options.Value.Required ?? !server.Value.Dev;

    /// <inheritdoc />
    public async Task<TrainingStanding> StandingAsync(string accountId, IReadOnlyCollection<string> roles, DateOnly today, CancellationToken cancellationToken)
    {
        var records = await database.Set<TrainingRecordEntity>().AsNoTracking()
            .Where(r => r.AccountId == accountId && roles.Contains(r.Role))
            .ToListAsync(cancellationToken);
        var statuses = records.Select(r => r.StatusOn(today)).ToList();
        return statuses.Contains("valid") ? TrainingStanding.Valid
            : statuses.Contains("expired") ? TrainingStanding.Expired
            : TrainingStanding.Missing;
    }
}
