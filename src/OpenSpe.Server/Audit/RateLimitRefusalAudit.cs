using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Audit records for requests the rate limiter refuses (429). A signed-in caller's refusal gets its
/// own record. Anonymous refusals are aggregated: the first from a source address in a minute gets
/// its own record, the rest of that minute one summary record with their count, so a flood cannot
/// fill the audit log (one record per source and minute instead of one per request).
/// </summary>
internal sealed class RateLimitRefusalAudit(IAuditLog audit, TimeProvider time) : IDisposable
{
    private const int MaxSources = 10_000;
    private readonly ConcurrentDictionary<(string Source, long Minute), int> _suppressed = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>Records one refusal.</summary>
    public async Task RecordAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var entry = AuditMiddleware.Entry(context, AuditMiddleware.ActionName(context), AuditOutcome.Denied, 429, TraceIds.Current(context));
        if (context.User.Identity?.IsAuthenticated == true)
        {
            await AppendQuietlyAsync(entry);
            return;
        }

        var source = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        if (_suppressed.Count >= MaxSources && !_suppressed.ContainsKey((source, minute)))
        {
            // Note: beyond this many sources in flight, all further ones share one bucket, so memory stays bounded.
            source = "other-sources";
        }

        var first = false;
        _suppressed.AddOrUpdate((source, minute), _ => { first = true; return 0; }, (_, count) => count + 1);
        if (first)
        {
            var details = new Dictionary<string, string>(entry.Details ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                ["aggregation"] = "first anonymous refusal of this source in this minute; the rest are counted in a rate-limit.summary record",
            };
            await AppendQuietlyAsync(entry with { Details = details });
        }
    }

    /// <summary>Writes the summary records of every minute before the current one (all of them when <paramref name="everything"/>).</summary>
    public async Task FlushAsync(bool everything = false)
    {
        // One flush at a time: a caller returns only when every finished minute's summary is durable.
        await _flushing.WaitAsync();
        try
        {
            await FlushFinishedAsync(everything);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task FlushFinishedAsync(bool everything)
    {
        var current = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        foreach (var key in _suppressed.Keys.Where(k => everything || k.Minute < current).ToList())
        {
            if (_suppressed.TryRemove(key, out var count) && count > 0)
            {
                var minute = DateTimeOffset.FromUnixTimeSeconds(key.Minute * 60).ToString("yyyy-MM-ddTHH:mmZ", CultureInfo.InvariantCulture);
                await AppendQuietlyAsync(new AuditEntry(
                    new AuditActor(null, null, [], null, key.Source == "other-sources" ? null : key.Source, null),
                    "rate-limit.summary", new AuditResource(null, null, null), AuditOutcome.Denied, 429, null,
                    new Dictionary<string, string>
                    {
                        ["source"] = key.Source,
                        ["minute"] = minute,
                        ["refused"] = count.ToString(CultureInfo.InvariantCulture),
                    }));
            }
        }
    }

    public void Dispose() => _flushing.Dispose();

    // A refused request changed nothing, so an audit log that cannot be written does not turn the 429 into anything else.
    private async Task AppendQuietlyAsync(AuditEntry entry)
    {
        try
        {
            await audit.AppendAsync(entry, CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
        }
    }
}

/// <summary>Writes the anonymous refusal summaries once a minute, and the rest at shutdown.</summary>
internal sealed class RateLimitSummaryService(RateLimitRefusalAudit refusals, TimeProvider time) : BackgroundService
{
    // Note: made with the service, not in ExecuteAsync, which since .NET 10 starts late on the thread pool.
    private readonly PeriodicTimer _timer = new(TimeSpan.FromMinutes(1), time);

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timer = _timer;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await refusals.FlushAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await refusals.FlushAsync(everything: true);
    }
}
