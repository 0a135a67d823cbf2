namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// The sliding windows of one rule: per key, the values seen within the window. Pure and not thread-safe; the
/// evaluator holds a lock around it.
/// </summary>
internal sealed class AlertWindows(AlertRule rule, int maxKeys)
{
    /// <summary>The key new keys share once <c>maxKeys</c> are counted.</summary>
    public const string Overflow = "other";

    private readonly Dictionary<string, Queue<(DateTimeOffset At, long Value)>> _keys = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="value"/> for <paramref name="key"/> at <paramref name="now"/>; the total when it reaches the threshold (the key starts again), else null.</summary>
    public long? Add(string key, long value, DateTimeOffset now)
    {
        if (!_keys.TryGetValue(key, out var seen))
        {
            if (_keys.Count >= maxKeys)
            {
                Prune(now);
            }

            if (_keys.Count >= maxKeys)
            {
                key = Overflow;
            }

            if (!_keys.TryGetValue(key, out seen))
            {
                seen = new Queue<(DateTimeOffset, long)>();
                _keys[key] = seen;
            }
        }

        seen.Enqueue((now, value));
        while (seen.Count > 0 && seen.Peek().At <= now - rule.Window)
        {
            seen.Dequeue();
        }

        var total = seen.Sum(s => s.Value);
        if (total < rule.Threshold)
        {
            return null;
        }

        _keys.Remove(key);
        return total;
    }

    /// <summary>Keys counted now (for tests and the memory bound).</summary>
    public int Count => _keys.Count;

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, seen) in _keys.ToList())
        {
            if (seen.Count == 0 || seen.Last().At <= now - rule.Window)
            {
                _keys.Remove(key);
            }
        }
    }
}
