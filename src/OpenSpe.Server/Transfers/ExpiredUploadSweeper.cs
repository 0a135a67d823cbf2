using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// The expiration extension's other half: unfinished uploads (and partial uploads no final upload named) past their
/// <c>Upload-Expires</c> are discarded with their staging files, and staging files that belong to no upload (left by a
/// crash between creating the file and recording the upload) are removed once they are old enough not to be in creation.
/// Without it an abandoned upload's bytes would stay on disk until someone asked for it again.
/// </summary>
internal sealed partial class ExpiredUploadSweeper(IServiceScopeFactory scopes, UploadStaging staging, OpenSpe.Server.Permits.HaltRegistry halts, IOptions<UploadOptions> options, TimeProvider time, ILogger<ExpiredUploadSweeper> logger) : BackgroundService
{
    /// <summary>A staging file without an upload is removed only when it has not been written for this long.</summary>
    public static readonly TimeSpan OrphanAge = TimeSpan.FromHours(1);

    /// <summary>One pass: returns how many uploads and orphaned staging files it removed.</summary>
    public async Task<(int Uploads, int Orphans)> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var service = scope.ServiceProvider.GetRequiredService<UploadService>();
        var audit = scope.ServiceProvider.GetRequiredService<IAuditLog>();
        var now = time.GetUtcNow();
        // Note: filtered here, not in SQL: SQLite cannot compare DateTimeOffset values, and the table holds only uploads in progress.
        var all = await database.Uploads.AsNoTracking().Select(u => new { u.Id, u.ExpiresAt }).ToListAsync(cancellationToken);
        var removed = 0;
        foreach (var candidate in all.Where(u => u.ExpiresAt <= now))
        {
            using var held = UploadLocks.TryAcquire(candidate.Id);
            if (held is null)
            {
                continue; // A request is using it right now; the next pass sees it again.
            }

            var upload = await database.Uploads.FirstOrDefaultAsync(u => u.Id == candidate.Id, cancellationToken);
            if (upload is null || upload.ExpiresAt > now)
            {
                continue;
            }

            // Note: a halted project is frozen as it is, expired uploads included (OPR-20); the first pass after the halt is lifted removes them.
            using var commit = halts.TryBeginCommit(upload.ProjectId);
            if (commit is null)
            {
                continue;
            }

            await service.DiscardAsync(upload, cancellationToken);
            removed++;
            await audit.AppendAsync(new AuditEntry(AuditActor.System, "upload.expired", new AuditResource("upload", upload.Id, upload.ProjectId), AuditOutcome.Success, null, null,
                new Dictionary<string, string>
                {
                    ["dataset"] = upload.DatasetId,
                    ["offset"] = upload.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["length"] = upload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                }), cancellationToken);
        }

        // Note: the uploads read above (a staging file made since is younger than OrphanAge; a removed upload's file is gone).
        var known = all.Select(u => u.Id).ToHashSet(StringComparer.Ordinal);
        var orphans = 0;
        foreach (var (id, written) in staging.List())
        {
            if (!known.Contains(id) && now - written > OrphanAge)
            {
                staging.Delete(id);
                orphans++;
            }
        }

        return (removed, orphans);
    }

    // Note: made with the service, not in ExecuteAsync: since .NET 10 ExecuteAsync starts on the thread pool, so a timer made
    // there starts late by however long the pool takes, and a clock moved in between (a test's fake clock) is missed.
    private readonly PeriodicTimer _timer = new(options.Value.SweepInterval, time);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (uploads, orphans) = await SweepAsync(stoppingToken);
                if (uploads + orphans > 0)
                {
                    LogSwept(logger, uploads, orphans);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Note: a failed pass (the database or the audit log briefly unavailable) is simply tried again at the next one.
                LogPassFailed(logger, ex.GetType().Name);
            }

            try
            {
                if (!await _timer.WaitForNextTickAsync(stoppingToken))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 15101, Level = LogLevel.Information, Message = "SPE15101 removed {Uploads} expired uploads and {Orphans} orphaned staging files")]
    private static partial void LogSwept(ILogger logger, int uploads, int orphans);

    [LoggerMessage(EventId = 15102, Level = LogLevel.Error, Message = "SPE15102 expired-upload sweep failed ({ErrorType}); trying again at the next interval")]
    private static partial void LogPassFailed(ILogger logger, string errorType);
}
