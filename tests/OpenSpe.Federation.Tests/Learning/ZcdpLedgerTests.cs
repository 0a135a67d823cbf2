using OpenSpe.Federation.Learning;

namespace OpenSpe.Federation.Tests.Learning;

/// <summary>zCDP arithmetic kept exact, and the ledger: reserve then commit, release on failure, refusal past the permit's budget, under concurrency.</summary>
public sealed class ZcdpLedgerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void Rho_of_a_release_is_sensitivity_squared_over_twice_the_variance_exactly()
    {
        // Δ² = 4, σ² = 49/4 → ρ = 4 / (49/2) = 8/49.
        Assert.Equal(new Rational(8, 49), Zcdp.RhoOfRelease(Rational.FromInteger(4), new Rational(49, 4)));
        // Composition adds: 49 rounds of 8/49 are exactly 8, with no drift.
        var total = Rational.Zero;
        for (var i = 0; i < 49; i++)
        {
            total += new Rational(8, 49);
        }

        Assert.Equal(Rational.FromInteger(8), total);
        // In units, each round is rounded up: 49 rounds are charged at least the exact 8, and less than one unit more per round.
        var charged = 49 * RhoUnits.CeilingOf(new Rational(8, 49));
        Assert.InRange(charged - (8 * RhoUnits.PerRho), 0, 48);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void Units_round_a_cost_up_and_a_budget_down()
    {
        Assert.Equal(163_265_306_123, RhoUnits.CeilingOf(new Rational(8, 49))); // 0.163265306122448…
        Assert.Equal(RhoUnits.PerRho, RhoUnits.CeilingOf(Rational.FromInteger(1)));
        Assert.True(RhoUnits.FloorOf(1.0) < RhoUnits.PerRho);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void Epsilon_and_rho_convert_both_ways()
    {
        var rho = Zcdp.RhoForEpsilon(3.0, 1e-6);
        Assert.Equal(3.0, Zcdp.Epsilon(rho, 1e-6), 12);
        // ρ = 0.5, δ = 1e-6: ε = 0.5 + 2√(0.5 · ln 10⁶) = 0.5 + 2√6.9077… = 5.7565…
        Assert.Equal(0.5 + (2 * Math.Sqrt(0.5 * Math.Log(1e6))), Zcdp.Epsilon(0.5, 1e-6), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Zcdp.RhoForEpsilon(0, 1e-6));
        Assert.Throws<ArgumentOutOfRangeException>(() => Zcdp.Epsilon(1, 0));
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void The_variance_chosen_for_a_rho_never_spends_more_than_it()
    {
        foreach (var rho in new[] { 1e-4, 0.01, 0.0123456, 0.5, 3 })
        {
            var variance = Zcdp.VarianceForRho(Rational.FromInteger(400), rho);
            Assert.True(RhoUnits.CeilingOf(Zcdp.RhoOfRelease(Rational.FromInteger(400), variance)) <= RhoUnits.FloorOf(rho), $"ρ {rho}: σ² {variance}");
        }
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task A_reservation_counts_until_released_and_a_commit_keeps_it()
    {
        var ledger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());
        var scope = new LedgerScope("P-1", "alice", PrivacyBudget.Default);

        var first = await ledger.TryReserveAsync(scope, new Rational(1, 100), "round 1", Ct);
        Assert.NotNull(first);
        Assert.Equal(new PrivacySpend(0, RhoUnits.PerRho / 100), (await ledger.SpentAsync("P-1", "alice", scope.Budget, Ct)).Spend);
        await first.CommitAsync(Ct);
        await first.DisposeAsync(); // after a commit, disposing changes nothing
        var failed = await ledger.TryReserveAsync(scope, new Rational(1, 100), "round 2", Ct);
        await failed!.DisposeAsync(); // the round failed before anything left: given back

        var spent = await ledger.SpentAsync("P-1", null, scope.Budget, Ct);
        Assert.Equal(new PrivacySpend(RhoUnits.PerRho / 100, 0), spent.Spend);
        Assert.Equal(0.01, spent.Rho, 12);
        Assert.Equal(Zcdp.Epsilon(0.01, 1e-6), spent.Epsilon, 12);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task The_reservation_that_would_overspend_the_permit_is_refused_whoever_asks()
    {
        var store = new InMemoryPrivacyLedgerStore();
        var ledger = new PrivacyLedger(store);
        var budget = new PrivacyBudget(1.0, 1e-6);
        var cap = budget.CapUnits;
        var half = new Rational(cap / 2, RhoUnits.PerRho);

        var alice = await ledger.TryReserveAsync(new LedgerScope("P-1", "alice", budget), half, "a", Ct);
        await alice!.CommitAsync(Ct);
        var bob = await ledger.TryReserveAsync(new LedgerScope("P-1", "bob", budget), half, "b", Ct);
        Assert.NotNull(bob);
        // The permit's budget is shared: a third half does not fit, for alice or for anyone.
        Assert.Null(await ledger.TryReserveAsync(new LedgerScope("P-1", "carol", budget), half, "c", Ct));
        // Another permit has its own.
        Assert.NotNull(await ledger.TryReserveAsync(new LedgerScope("P-2", "alice", budget), half, "d", Ct));
        Assert.Equal(cap / 2, (await store.SpentAsync("P-1", "bob", Ct)).ReservedUnits);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task Concurrent_reservations_never_pass_the_cap_together()
    {
        var store = new InMemoryPrivacyLedgerStore();
        var budget = new PrivacyBudget(1.0, 1e-6);
        var tenth = new Rational(budget.CapUnits / 10, RhoUnits.PerRho);
        var ledger = new PrivacyLedger(store);

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => ledger.TryReserveAsync(new LedgerScope("P-1", $"p{i % 4}", budget), tenth, "r", Ct))));

        Assert.Equal(10, results.Count(r => r is not null));
        Assert.True((await store.SpentAsync("P-1", null, Ct)).TotalUnits <= budget.CapUnits);
    }

    [Fact]
    public async Task A_zero_delta_budget_allows_nothing()
    {
        var ledger = new PrivacyLedger(new InMemoryPrivacyLedgerStore());

        Assert.Null(await ledger.TryReserveAsync(new LedgerScope("P-1", "a", new PrivacyBudget(3, 0)), new Rational(1, RhoUnits.PerRho), "r", Ct));
    }
}
