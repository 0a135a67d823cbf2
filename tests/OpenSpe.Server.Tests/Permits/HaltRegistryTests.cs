using System.Diagnostics;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>
/// The registry's rules for states read from the database (OPR-20): a read that began before a newer applied one is older
/// news and dropped; commits in a halted scope are waited for however the halt arrived; an unread registry refuses everything.
/// </summary>
public sealed class HaltRegistryTests
{
    private static readonly HaltState Nothing = new(false, new HashSet<string>());

    private static HaltState Project(string id) => new(false, new HashSet<string> { id });

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_read_that_began_before_a_newer_applied_read_is_dropped()
    {
        var registry = new HaltRegistry();
        var older = registry.BeginRead();
        var newer = registry.BeginRead();

        var newerApplied = await registry.ApplyAsync(Project("p1"), newer);
        var olderApplied = await registry.ApplyAsync(Nothing, older);

        Assert.True(newerApplied);
        Assert.False(olderApplied);
        Assert.True(registry.IsHalted("p1"));
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_stops_running_work_of_its_project_only()
    {
        var registry = new HaltRegistry();
        using var halted = registry.TryBeginWork("p1")!;
        using var other = registry.TryBeginWork("p2")!;

        await registry.ApplyAsync(Project("p1"), registry.BeginRead());

        Assert.True(halted.Halted.IsCancellationRequested);
        Assert.False(other.Halted.IsCancellationRequested);
        Assert.Null(registry.TryBeginWork("p1"));
        Assert.Null(registry.TryBeginCommit("p1"));
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task Commits_in_a_halted_scope_are_waited_for_even_when_the_halt_was_applied_by_an_earlier_read()
    {
        var registry = new HaltRegistry();
        var commit = registry.TryBeginCommit("p1")!;
        // The synchronizer learns of the halt first; the halting request's own reload then finds nothing newly halted.
        await registry.ApplyAsync(Project("p1"), registry.BeginRead());
        await registry.ApplyAsync(Project("p1"), registry.BeginRead());

        var drain = registry.DrainCommitsAsync();
        var waited = !drain.IsCompleted;
        commit.Dispose();
        await drain.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(waited, "the halt did not wait for the commit in flight");
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_registry_not_read_within_its_bound_refuses_all_work_and_stops_what_runs_until_it_is_read_again()
    {
        var registry = new HaltRegistry();
        using var running = registry.TryBeginWork("p1")!;
        var neverMarked = registry.IsStale;

        registry.MarkFresh(Stopwatch.GetTimestamp() - 1);
        var stale = (registry.IsStale, registry.IsHalted("p1"), registry.AllHalted, Work: registry.TryBeginWork("p2"), Commit: registry.TryBeginCommit("p2"));
        var stopped = await registry.StopWorkIfStaleAsync();
        registry.MarkFresh(Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60);
        using var again = registry.TryBeginWork("p1");

        Assert.False(neverMarked);
        Assert.True(stale.IsStale);
        Assert.True(stale.Item2);
        Assert.True(stale.AllHalted);
        Assert.Null(stale.Work);
        Assert.Null(stale.Commit);
        Assert.True(stopped);
        Assert.True(running.Halted.IsCancellationRequested);
        Assert.False(registry.IsStale);
        Assert.NotNull(again);
        Assert.False(again.Halted.IsCancellationRequested);
    }
}

/// <summary>Halt settings that could not keep their promise stop the server at start, with one line naming the setting.</summary>
public sealed class HaltOptionsTests
{
    [Theory]
    [InlineData("00:00:01", "00:00:01", "Halts:StalenessBound must be longer than Halts:PollInterval")]
    [InlineData("00:00:10", "00:00:20", "PollInterval")]
    [InlineData("00:00:00.250", "00:05:00", "StalenessBound")]
    public async Task A_staleness_bound_not_above_the_poll_interval_or_out_of_range_stops_the_server_at_start(string interval, string bound, string named)
    {
        var failure = await Assert.ThrowsAsync<OpenSpe.Server.Hosting.SpeConfigurationException>(() => Infrastructure.SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Halts:PollInterval"] = interval,
            ["Halts:StalenessBound"] = bound,
        }));

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Message);
    }
}
