using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Federation.Learning;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Federation.Learning;

/// <summary>
/// One book of the privacy ledger in the SPE's database (<c>privacy_ledger</c>), so the budget a permit spent survives restarts
/// and is shared by every instance on that database (FCR-9).
/// </summary>
/// <remarks>
/// Note: a reservation's check and insert run in one transaction that first takes a lock on the book and permit (SQLite:
/// <c>BEGIN IMMEDIATE</c>, the database's one writer; PostgreSQL: a transaction-scoped advisory lock), because under
/// PostgreSQL's read-committed isolation two concurrent sums would both see room that only one of them fits.
/// </remarks>
internal sealed class DatabasePrivacyLedgerStore(IServiceScopeFactory scopes, string book, TimeProvider time) : IPrivacyLedgerStore
{
    /// <summary>The book this store keeps (<see cref="PrivacyLedgerBooks"/>).</summary>
    public string Book => book;

    /// <inheritdoc />
    public async Task<Guid?> TryReserveAsync(string permit, string person, long units, long capUnits, string purpose, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        await using var transaction = await database.Database.BeginTransactionAsync(cancellationToken);
        if (database.Database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL")
        {
            var key = $"privacy-ledger\n{book}\n{permit}";
            await database.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken);
        }

        var total = await Entries(database, permit).SumAsync(e => e.Units, cancellationToken);
        if (units > capUnits - total)
        {
            return null;
        }

        var id = Guid.NewGuid();
        database.Add(new PrivacyLedgerEntryEntity
        {
            Id = id,
            Book = book,
            Permit = permit,
            Person = person,
            Units = units,
            Purpose = purpose.Length > 200 ? purpose[..200] : purpose,
            ReservedAtMicros = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000,
        });
        await database.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return id;
    }

    /// <inheritdoc />
    public async Task<bool> CommitAsync(Guid reservation, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var changed = await database.Set<PrivacyLedgerEntryEntity>().Where(e => e.Id == reservation && e.Book == book && !e.Committed)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Committed, true), cancellationToken);
        return changed == 1;
    }

    /// <inheritdoc />
    public async Task<bool> ReleaseAsync(Guid reservation, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var removed = await database.Set<PrivacyLedgerEntryEntity>().Where(e => e.Id == reservation && e.Book == book && !e.Committed).ExecuteDeleteAsync(cancellationToken);
        return removed == 1;
    }

    /// <inheritdoc />
    public async Task<PrivacySpend> SpentAsync(string permit, string? person, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var entries = Entries(database, permit).Where(e => person == null || e.Person == person);
        var sums = await entries.GroupBy(e => e.Committed).Select(g => new { Committed = g.Key, Units = g.Sum(e => e.Units) }).ToListAsync(cancellationToken);
        return new PrivacySpend(sums.Where(s => s.Committed).Sum(s => s.Units), sums.Where(s => !s.Committed).Sum(s => s.Units));
    }

    private IQueryable<PrivacyLedgerEntryEntity> Entries(SpeDbContext database, string permit) =>
        database.Set<PrivacyLedgerEntryEntity>().AsNoTracking().Where(e => e.Book == book && e.Permit == permit);
}
