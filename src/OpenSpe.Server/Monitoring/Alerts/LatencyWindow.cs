namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>What a <see cref="LatencyWindow"/> holds for its window: how many durations, how many above the objective, and the quantile.</summary>
/// <param name="Count">Durations recorded within the window.</param>
/// <param name="AboveObjective">Of those, the ones longer than the objective.</param>
/// <param name="QuantileSeconds">The rule's quantile, as the upper bound of the bucket it falls in (or the longest duration seen, when that is less); 0 when empty.</param>
internal readonly record struct LatencySummary(long Count, long AboveObjective, double QuantileSeconds);

/// <summary>
/// Durations within a sliding window as a fixed-bucket histogram per time slice (<see cref="Slices"/> slices of a
/// thirtieth of the window each), so memory is fixed however many requests arrive (TIR-15, TIR-35). The objective is one
/// of the bucket bounds, so whether the quantile is above it is counted exactly, not estimated. Thread-safe.
/// </summary>
internal sealed class LatencyWindow
{
    /// <summary>Slices per window; the window slides a slice at a time, so it covers the last window to within a thirtieth.</summary>
    public const int Slices = 30;

    // Note: the bounds of the platform's own duration histogram, finer around the objectives, so the reported quantile
    // reads like the one an operator computes from /metrics.
    private static readonly double[] StandardBounds =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 2.5, 5, 7.5, 10, 30, 60];

    private readonly double[] _bounds;
    private readonly double _objective;
    private readonly long _sliceTicks;
    private readonly long[] _counts;
    private readonly long[] _sliceOf;
    private readonly double[] _longest;
    private readonly Lock _gate = new();

    /// <summary>A window of <paramref name="window"/> for durations measured against <paramref name="objectiveSeconds"/>.</summary>
    public LatencyWindow(TimeSpan window, double objectiveSeconds)
    {
        _objective = objectiveSeconds;
        _bounds = [.. StandardBounds.Append(objectiveSeconds).Distinct().Order()];
        _sliceTicks = Math.Max(1, window.Ticks / Slices);
        _counts = new long[Slices * (_bounds.Length + 1)];
        _sliceOf = new long[Slices];
        Array.Fill(_sliceOf, -1);
        _longest = new double[Slices];
    }

    /// <summary>Bytes this window holds, whatever it has seen (for the memory bound).</summary>
    public int Size => (_counts.Length + _sliceOf.Length + _longest.Length) * sizeof(long);

    /// <summary>Records one duration measured at <paramref name="at"/>; one older than the window is dropped.</summary>
    public void Record(double seconds, DateTimeOffset at)
    {
        var slice = at.UtcTicks / _sliceTicks;
        var position = (int)(slice % Slices);
        var bucket = Array.BinarySearch(_bounds, seconds);
        // Note: bucket i holds durations up to and including bound i, as Prometheus's "le" does.
        bucket = bucket >= 0 ? bucket : ~bucket;
        lock (_gate)
        {
            if (_sliceOf[position] > slice)
            {
                return;
            }

            if (_sliceOf[position] != slice)
            {
                Array.Clear(_counts, position * (_bounds.Length + 1), _bounds.Length + 1);
                _sliceOf[position] = slice;
                _longest[position] = 0;
            }

            _counts[(position * (_bounds.Length + 1)) + bucket]++;
            _longest[position] = Math.Max(_longest[position], seconds);
        }
    }

    /// <summary>The window ending at <paramref name="now"/>, with its <paramref name="quantile"/> (0.99 for p99).</summary>
    public LatencySummary Read(DateTimeOffset now, double quantile)
    {
        var current = now.UtcTicks / _sliceTicks;
        var totals = new long[_bounds.Length + 1];
        var longest = 0.0;
        lock (_gate)
        {
            for (var position = 0; position < Slices; position++)
            {
                var slice = _sliceOf[position];
                if (slice < 0 || slice <= current - Slices || slice > current)
                {
                    continue;
                }

                for (var bucket = 0; bucket <= _bounds.Length; bucket++)
                {
                    totals[bucket] += _counts[(position * (_bounds.Length + 1)) + bucket];
                }

                longest = Math.Max(longest, _longest[position]);
            }
        }

        var count = totals.Sum();
        var objectiveBucket = Array.BinarySearch(_bounds, _objective);
        var above = totals.Skip(objectiveBucket + 1).Sum();
        if (count == 0)
        {
            return new LatencySummary(0, 0, 0);
        }

        // Note: the nearest rank, as a percentile of a list is read: the smallest duration that at least this share of them do not exceed.
        var rank = (long)Math.Ceiling(quantile * count);
        long seen = 0;
        var value = longest;
        for (var bucket = 0; bucket <= _bounds.Length; bucket++)
        {
            seen += totals[bucket];
            if (seen >= rank)
            {
                value = bucket < _bounds.Length ? Math.Min(_bounds[bucket], longest) : longest;
                break;
            }
        }

        return new LatencySummary(count, above, value);
    }

    /// <summary>Whether <paramref name="summary"/> breaks the objective at <paramref name="quantile"/>: more than the allowed share of its durations are above it.</summary>
    public static bool Breached(LatencySummary summary, double quantile, long minimumCount) =>
        summary.Count >= minimumCount && summary.Count - summary.AboveObjective < quantile * summary.Count;
}
