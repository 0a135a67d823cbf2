using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OpenSpe.Federation.Learning;

/// <summary>A permit's differential-privacy budget as its document states it (<c>policies.privacyBudget</c>).</summary>
/// <param name="Epsilon">Total ε (above 0, at most 100).</param>
/// <param name="Delta">Total δ (above 0, at most 0.001; a δ of 0 allows no zCDP release at all).</param>
public sealed record PrivacyBudget(double Epsilon, double Delta)
{
    /// <summary>The permit document's default (ε 3, δ 10⁻⁶).</summary>
    public static PrivacyBudget Default { get; } = new(3.0, 1e-6);

    /// <summary>The cap in ρ units: the largest ρ whose (ε, δ) conversion stays within the budget, rounded down; 0 when δ is 0.</summary>
    public long CapUnits => Delta <= 0 || Epsilon <= 0 ? 0 : RhoUnits.FloorOf(Zcdp.RhoForEpsilon(Epsilon, Delta));
}

/// <summary>Who spends: the permit (its reference) and the person (account id) whose request draws the noise.</summary>
public sealed record LedgerScope(string Permit, string Person, PrivacyBudget Budget);

/// <summary>
/// A zCDP ledger over <see cref="IPrivacyLedgerStore"/>: reserve before a round's noise is drawn, commit once anything
/// was released, release when nothing was. Entries are per (permit, person); the permit's budget bounds the sum over
/// all its people.
/// </summary>
/// <remarks>
/// Note: the budget is the permit's, not each person's, because the permit's data users share their results; a budget
/// per person would multiply the loss the HDAB agreed to by the number of people on the permit.
/// Note: an open reservation counts as spent, so a round whose process died between drawing and committing fails
/// closed (it stays charged) rather than giving the budget back.
/// </remarks>
public sealed class PrivacyLedger(IPrivacyLedgerStore store, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The store.</summary>
    public IPrivacyLedgerStore Store { get; } = store;

    /// <summary>
    /// Reserves <paramref name="rho"/> (rounded up to whole units) for <paramref name="scope"/>, or refuses with
    /// <see cref="FederatedLearningCodes.BudgetExhausted"/> when the permit's budget would be exceeded.
    /// </summary>
    public async Task<LedgerReservation?> TryReserveAsync(LedgerScope scope, Rational rho, string purpose, CancellationToken cancellationToken)
    {
        var units = RhoUnits.CeilingOf(rho);
        var cap = scope.Budget.CapUnits;
        var id = await Store.TryReserveAsync(scope.Permit, scope.Person, units, cap, purpose, cancellationToken).ConfigureAwait(false);
        if (id is null)
        {
            LearningLog.BudgetRefused(_logger, purpose, RhoUnits.ToRho(units), RhoUnits.ToRho(cap));
            return null;
        }

        return new LedgerReservation(Store, id.Value, units);
    }

    /// <summary>What the permit has spent (everyone, or one person), as ρ units and as (ε, δ) at the permit's δ.</summary>
    public async Task<PrivacySpendView> SpentAsync(string permit, string? person, PrivacyBudget budget, CancellationToken cancellationToken)
    {
        var spend = await Store.SpentAsync(permit, person, cancellationToken).ConfigureAwait(false);
        var rho = RhoUnits.ToRho(spend.TotalUnits);
        return new PrivacySpendView(spend, rho, budget.Delta > 0 ? Zcdp.Epsilon(rho, budget.Delta) : 0, budget.CapUnits, budget);
    }
}

/// <summary>What was spent, for the requester and the HDAB.</summary>
/// <param name="Spend">Committed and reserved units.</param>
/// <param name="Rho">ρ of committed plus reserved (display).</param>
/// <param name="Epsilon">ε at the budget's δ that ρ implies (display).</param>
/// <param name="CapUnits">The budget's cap in units.</param>
/// <param name="Budget">The permit's budget.</param>
public sealed record PrivacySpendView(PrivacySpend Spend, double Rho, double Epsilon, long CapUnits, PrivacyBudget Budget);

/// <summary>
/// An open reservation. <see cref="CommitAsync"/> once a noised value has left; disposing without committing releases
/// it, so a failure before anything was released gives the reservation back.
/// </summary>
public sealed class LedgerReservation : IAsyncDisposable
{
    private readonly IPrivacyLedgerStore _store;
    private bool _settled;

    internal LedgerReservation(IPrivacyLedgerStore store, Guid id, long units)
    {
        _store = store;
        Id = id;
        Units = units;
    }

    /// <summary>The reservation's id in the store.</summary>
    public Guid Id { get; }

    /// <summary>The ρ units reserved.</summary>
    public long Units { get; }

    /// <summary>Marks the loss as spent.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (!_settled)
        {
            _settled = true;
            if (!await _store.CommitAsync(Id, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"reservation {Id} was not open");
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_settled)
        {
            _settled = true;
            // Note: CancellationToken.None because giving a reservation back must not be skipped by a cancelled caller.
            await _store.ReleaseAsync(Id, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
