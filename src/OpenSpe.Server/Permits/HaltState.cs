using Microsoft.EntityFrameworkCore;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>The halts in force as the database records them: everything, and/or some projects.</summary>
/// <param name="All">True when everything is halted.</param>
/// <param name="Projects">Projects halted one by one.</param>
internal sealed record HaltState(bool All, IReadOnlySet<string> Projects)
{
    /// <summary>Reads the halts not yet lifted.</summary>
    public static async Task<HaltState> ReadAsync(SpeDbContext database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var active = await database.Halts.AsNoTracking().Where(h => h.ResumedAt == null).Select(h => h.ProjectId).ToListAsync(cancellationToken);
        return new HaltState(active.Any(p => p is null), active.Where(p => p is not null).Select(p => p!).ToHashSet(StringComparer.Ordinal));
    }
}

/// <summary>Where <see cref="HaltSynchronizer"/> reads the halts in force; a seam so tests can make the read fail.</summary>
internal interface IHaltSource
{
    /// <summary>Reads the halts in force now.</summary>
    Task<HaltState> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>Reads the halts from the database every instance shares.</summary>
internal sealed class DatabaseHaltSource(SpeDatabase database) : IHaltSource
{
    public async Task<HaltState> ReadAsync(CancellationToken cancellationToken)
    {
        await using var context = database.CreateDbContext();
        return await HaltState.ReadAsync(context, cancellationToken);
    }
}
