namespace OpenSpe.Federation.Learning;

/// <summary>
/// Where a privacy ledger keeps its entries: one per reservation, keyed by permit and person, in ρ units
/// (<see cref="RhoUnits"/>). Implementations make <see cref="TryReserveAsync"/> atomic: the check against the cap and the
/// insert happen as one step, so concurrent rounds can never both pass a check that only one of them fits.
/// </summary>
public interface IPrivacyLedgerStore
{
    /// <summary>
    /// Adds a reservation of <paramref name="units"/> for <paramref name="person"/> when the permit's committed and
    /// reserved units of every person plus <paramref name="units"/> stay at most <paramref name="capUnits"/>; null otherwise.
    /// </summary>
    Task<Guid?> TryReserveAsync(string permit, string person, long units, long capUnits, string purpose, CancellationToken cancellationToken);

    /// <summary>Turns an open reservation into spent loss; false when it is not open (unknown, committed or released).</summary>
    Task<bool> CommitAsync(Guid reservation, CancellationToken cancellationToken);

    /// <summary>Removes an open reservation (nothing was released); false when it is not open.</summary>
    Task<bool> ReleaseAsync(Guid reservation, CancellationToken cancellationToken);

    /// <summary>The permit's committed and open units, for one person or (null) for everyone.</summary>
    Task<PrivacySpend> SpentAsync(string permit, string? person, CancellationToken cancellationToken);
}

/// <summary>Units of ρ spent (committed) and held by open reservations.</summary>
public readonly record struct PrivacySpend(long CommittedUnits, long ReservedUnits)
{
    /// <summary>Committed plus reserved: what counts against the budget (an open reservation is treated as spent).</summary>
    public long TotalUnits => checked(CommittedUnits + ReservedUnits);
}

/// <summary>The ledger kept in memory (tests, and a process that keeps no database). Thread-safe.</summary>
public sealed class InMemoryPrivacyLedgerStore : IPrivacyLedgerStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Entry> _entries = [];

    /// <inheritdoc />
    public Task<Guid?> TryReserveAsync(string permit, string person, long units, long capUnits, string purpose, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        lock (_gate)
        {
            var total = _entries.Values.Where(e => e.Permit == permit).Sum(e => e.Units);
            if (units > capUnits - total)
            {
                return Task.FromResult<Guid?>(null);
            }

            var id = Guid.NewGuid();
            _entries[id] = new Entry(permit, person, units, Committed: false);
            return Task.FromResult<Guid?>(id);
        }
    }

    /// <inheritdoc />
    public Task<bool> CommitAsync(Guid reservation, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(reservation, out var entry) || entry.Committed)
            {
                return Task.FromResult(false);
            }

            _entries[reservation] = entry with { Committed = true };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> ReleaseAsync(Guid reservation, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_entries.TryGetValue(reservation, out var entry) && !entry.Committed && _entries.Remove(reservation));
        }
    }

    /// <inheritdoc />
    public Task<PrivacySpend> SpentAsync(string permit, string? person, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var entries = _entries.Values.Where(e => e.Permit == permit && (person is null || e.Person == person)).ToList();
            return Task.FromResult(new PrivacySpend(entries.Where(e => e.Committed).Sum(e => e.Units), entries.Where(e => !e.Committed).Sum(e => e.Units)));
        }
    }

    private sealed record Entry(string Permit, string Person, long Units, bool Committed);
}
