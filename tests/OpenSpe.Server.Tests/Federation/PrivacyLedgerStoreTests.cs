using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Federation.Learning;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// The privacy ledger in the SPE's database (FCR-9), on SQLite and PostgreSQL: reservations racing for the last room of a
/// budget never both get it, the two books are apart, and commit and release act once.
/// </summary>
public abstract class PrivacyLedgerStoreTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync(Backend);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private DatabasePrivacyLedgerStore Store(string book) =>
        new(_server.Services.GetRequiredService<IServiceScopeFactory>(), book, TimeProvider.System);

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task Of_many_reservations_racing_for_room_for_three_exactly_three_get_it()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => Store(PrivacyLedgerBooks.Node)).ToList();

        // Sixteen reservations of 10 units against a cap of 30, from four store instances (as from several instances of the SPE).
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => stores[i % 4].TryReserveAsync("P-RACE", $"person-{i % 3}", 10, 30, $"round {i}", TestContext.Current.CancellationToken))));

        Assert.Equal(3, results.Count(r => r is not null));
        var spend = await stores[0].SpentAsync("P-RACE", null, TestContext.Current.CancellationToken);
        Assert.Equal(new PrivacySpend(0, 30), spend);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public async Task Commit_and_release_act_once_and_the_books_and_permits_are_apart()
    {
        var node = Store(PrivacyLedgerBooks.Node);
        var coordinator = Store(PrivacyLedgerBooks.Coordinator);
        var token = TestContext.Current.CancellationToken;

        var kept = await node.TryReserveAsync("P-BOOKS", "alice", 7, 10, "round 1", token);
        var given = await node.TryReserveAsync("P-BOOKS", "bob", 3, 10, "round 2", token);
        Assert.NotNull(kept);
        Assert.NotNull(given);
        Assert.Null(await node.TryReserveAsync("P-BOOKS", "alice", 1, 10, "round 3", token));
        // The other book and another permit have their own room.
        Assert.NotNull(await coordinator.TryReserveAsync("P-BOOKS", "alice", 10, 10, "run", token));
        Assert.NotNull(await node.TryReserveAsync("P-OTHER", "alice", 10, 10, "round 1", token));

        Assert.True(await node.CommitAsync(kept!.Value, token));
        Assert.False(await node.CommitAsync(kept.Value, token));
        Assert.False(await node.ReleaseAsync(kept.Value, token));
        Assert.False(await coordinator.CommitAsync(given!.Value, token));
        Assert.True(await node.ReleaseAsync(given.Value, token));
        Assert.False(await node.ReleaseAsync(given.Value, token));

        Assert.Equal(new PrivacySpend(7, 0), await node.SpentAsync("P-BOOKS", null, token));
        Assert.Equal(new PrivacySpend(7, 0), await node.SpentAsync("P-BOOKS", "alice", token));
        Assert.Equal(new PrivacySpend(0, 0), await node.SpentAsync("P-BOOKS", "bob", token));
        Assert.Equal(new PrivacySpend(0, 10), await coordinator.SpentAsync("P-BOOKS", null, token));
    }
}

public sealed class SqlitePrivacyLedgerStoreTests : PrivacyLedgerStoreTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresPrivacyLedgerStoreTests : PrivacyLedgerStoreTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
