using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Monitoring.Alerts;

namespace OpenSpe.Server.UnitTests.Monitoring;

/// <summary>The bounded sliding histogram behind the latency objective rules (TIR-15, TIR-35), on a clock the test drives.</summary>
public sealed class LatencyWindowTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    [Trait("Requirement", "TIR-15")]
    public void The_p99_is_above_the_objective_exactly_when_more_than_one_in_a_hundred_are()
    {
        var window = new LatencyWindow(TimeSpan.FromMinutes(5), 0.25);
        Record(window, 0.1, 990);
        Record(window, 0.26, 10);

        var atTheLimit = window.Read(_clock.GetUtcNow(), 0.99);
        Record(window, 0.26, 1);
        var over = window.Read(_clock.GetUtcNow(), 0.99);

        Assert.Equal(new LatencySummary(1000, 10, 0.1), atTheLimit);
        Assert.False(LatencyWindow.Breached(atTheLimit, 0.99, 100));
        Assert.Equal(11, over.AboveObjective);
        Assert.Equal(0.26, over.QuantileSeconds);
        Assert.True(LatencyWindow.Breached(over, 0.99, 100));
        Assert.False(LatencyWindow.Breached(over, 0.99, 1002));
    }

    [Fact]
    [Trait("Requirement", "TIR-15")]
    public void Durations_older_than_the_window_slide_out_and_memory_does_not_grow()
    {
        var window = new LatencyWindow(TimeSpan.FromMinutes(5), 0.25);
        var size = window.Size;

        Record(window, 1, 500);
        _clock.Advance(TimeSpan.FromMinutes(3));
        Record(window, 0.01, 100_000);
        var both = window.Read(_clock.GetUtcNow(), 0.99);
        _clock.Advance(TimeSpan.FromMinutes(2.5));
        var later = window.Read(_clock.GetUtcNow(), 0.99);
        _clock.Advance(TimeSpan.FromMinutes(5));
        var empty = window.Read(_clock.GetUtcNow(), 0.99);

        Assert.Equal((100_500L, 500L), (both.Count, both.AboveObjective));
        Assert.Equal((100_000L, 0L), (later.Count, later.AboveObjective));
        Assert.Equal(new LatencySummary(0, 0, 0), empty);
        Assert.Equal(size, window.Size);
    }

    [Theory]
    [Trait("Requirement", "TIR-15")]
    [InlineData("RequestLatency", "1.5", "100", "00:05:00", "Quantile")]
    [InlineData("RequestLatency", "0.99", "0", "00:05:00", "MinimumCount")]
    [InlineData("FederationLatency", "0.99", "20", "00:00:10", "Window")]
    [InlineData("DiskFree", "0.99", "", "1.00:00:00", "Quantile")]
    public void A_latency_rule_out_of_range_or_latency_settings_on_another_check_stop_the_start(string check, string quantile, string minimum, string window, string field)
    {
        var rule = new AlertRule
        {
            Name = "latency",
            Check = Enum.Parse<AlertCheck>(check),
            Threshold = 250,
            Quantile = double.Parse(quantile, System.Globalization.CultureInfo.InvariantCulture),
            MinimumCount = minimum.Length == 0 ? null : long.Parse(minimum, System.Globalization.CultureInfo.InvariantCulture),
            Window = TimeSpan.Parse(window, System.Globalization.CultureInfo.InvariantCulture),
        };
        var options = new AlertOptions { Rules = [rule] };

        var errors = options.Validate(new ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.Contains(field, StringComparison.Ordinal) && e.Contains("'latency'", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "TIR-15")]
    [Trait("Requirement", "TIR-35")]
    public void The_shipped_objectives_are_those_the_docs_state()
    {
        var rules = new AlertOptions().InForce();

        var api = Assert.Single(rules, r => r.Check == AlertCheck.RequestLatency);
        var federation = Assert.Single(rules, r => r.Check == AlertCheck.FederationLatency);
        var client = Assert.Single(rules, r => r.Check == AlertCheck.FederationClientLatency);

        Assert.Equal((250L, TimeSpan.FromMinutes(5), 0.99, 100L), (api.Threshold, api.Window, api.LatencyQuantile, api.LatencyMinimumCount));
        Assert.Equal((1000L, TimeSpan.FromMinutes(15), 0.99, 20L), (federation.Threshold, federation.Window, federation.LatencyQuantile, federation.LatencyMinimumCount));
        Assert.Equal((1000L, TimeSpan.FromMinutes(15), 0.99, 20L), (client.Threshold, client.Window, client.LatencyQuantile, client.LatencyMinimumCount));
        Assert.Equal(["*/WatchTask", "*/Train"], client.Exclude);
        Assert.Empty(new AlertOptions().Validate(new ValidationContext(new AlertOptions())));
        Assert.All(rules, r => Assert.Empty(r.Validate(new ValidationContext(r))));
    }

    private void Record(LatencyWindow window, double seconds, int count)
    {
        for (var i = 0; i < count; i++)
        {
            window.Record(seconds, _clock.GetUtcNow());
        }
    }
}
