using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// Scheduled backups (OPR-21, OPR-24): every <see cref="BackupOptions.Interval"/> the server backs up its own data
/// directory, database and object store into <see cref="BackupOptions.Directory"/>, encrypted to the backup public key,
/// records the outcome as a <c>backup.created</c> or <c>backup.failed</c> audit record (the evidence an auditor reads),
/// and keeps the newest <see cref="BackupOptions.Keep"/>.
/// </summary>
internal sealed partial class ScheduledBackups(IOptions<BackupOptions> options, IOptions<DatabaseOptions> database, IOptions<ObjectStoreOptions> objects,
    DataDirectory directory, IAuditLog audit, TimeProvider time, ILogger<ScheduledBackups> logger, Vault.IProjectKeyStore projectKeys) : BackgroundService
{
    /// <summary>The audit action of a scheduled backup that was made.</summary>
    public const string CreatedAction = "backup.created";

    /// <summary>The audit action of a scheduled backup that could not be made.</summary>
    public const string FailedAction = "backup.failed";

    /// <summary>The audit action of a scheduled backup deleted because more than <see cref="BackupOptions.Keep"/> were kept.</summary>
    public const string PrunedAction = "backup.pruned";

    private const string NamePrefix = "spe-backup-";

    /// <summary>Only directories named like this are ever deleted by the pruning: nothing else in the backup directory is touched.</summary>
    [GeneratedRegex(@"^spe-backup-\d{8}T\d{6}Z(-\d{1,3})?$", RegexOptions.CultureInvariant)]
    private static partial Regex OwnName();

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    // Note: made with the service, not in ExecuteAsync: since .NET 10 ExecuteAsync starts on the thread pool, so a timer made
    // there starts late by however long the pool takes, and a clock moved in between (a test's fake clock) is missed.
    private readonly PeriodicTimer? _timer = options.Value.Interval is { } interval ? new(interval, time) : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await timer.WaitForNextTickAsync(stoppingToken))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await RunOnceAsync(stoppingToken);
        }
    }

    /// <summary>Makes one backup now, records its outcome and prunes; returns the backup's directory name, or null when it failed.</summary>
    public async Task<string?> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Directory is not { } root || settings.RecipientPublicKeyPath is not { } keyPath)
        {
            return null;
        }

        await _oneAtATime.WaitAsync(cancellationToken);
        var name = NamePrefix + time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        try
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var recipient = LoadKey(keyPath);
                Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                name = Unused(root, name);
                var source = new BackupSource(directory.Path, database.Value.ConnectionString, objects.Value.Root, settings.ConfigurationFile, ProjectKeys: projectKeys);
                var manifest = await BackupWriter.CreateAsync(source, Path.Combine(root, name), recipient, time, cancellationToken);
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                await audit.AppendAsync(Entry(CreatedAction, name, AuditOutcome.Success, new()
                {
                    ["pieces"] = manifest.Pieces.Count.ToString(CultureInfo.InvariantCulture),
                    ["bytes"] = manifest.Pieces.Sum(p => p.Size).ToString(CultureInfo.InvariantCulture),
                    ["database"] = manifest.Database,
                    ["seconds"] = seconds.ToString("0.###", CultureInfo.InvariantCulture),
                }), cancellationToken);
                LogCreated(logger, name, manifest.Pieces.Count, seconds);
                await PruneAsync(root, settings.Keep, cancellationToken);
                return name;
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not AuditUnavailableException)
            {
                LogFailed(logger, ex, name);
                _ = TryDelete(Path.Combine(root, name));
                await audit.AppendAsync(Entry(FailedAction, name, AuditOutcome.Error, new() { ["reason"] = Reason(ex) }), cancellationToken);
                return null;
            }
        }
        catch (AuditUnavailableException)
        {
            // Note: a backup whose outcome cannot be recorded is not evidence; the next interval tries again.
            LogNotAudited(logger, name);
            return null;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public override void Dispose()
    {
        _oneAtATime.Dispose();
        _timer?.Dispose();
        base.Dispose();
    }

    private static AuditEntry Entry(string action, string name, AuditOutcome outcome, Dictionary<string, string> details) =>
        new(AuditActor.System, action, new AuditResource("backup", name, null), outcome, null, null, details);

    /// <summary>Why a backup failed, in words that name no path or value of the data.</summary>
    private static string Reason(Exception ex) => ex switch
    {
        BackupKeyUnreadableException => "the backup public key could not be read",
        BackupException => "the backup could not be made (the operator's log has the cause)",
        IOException or UnauthorizedAccessException => "the backup directory could not be written",
        _ => "unexpected error (the operator's log has the cause)",
    };

    private static Crypt4ghPublicKey LoadKey(string path)
    {
        try
        {
            return Crypt4ghPublicKey.Load(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Crypt4ghException or FormatException)
        {
            throw new BackupKeyUnreadableException(ex);
        }
    }

    /// <summary>The public key checked at start is gone or changed since.</summary>
    private sealed class BackupKeyUnreadableException(Exception inner) : Exception("the backup public key could not be read", inner);

    private static string Unused(string root, string name)
    {
        var candidate = name;
        for (var n = 2; Path.Exists(Path.Combine(root, candidate)); n++)
        {
            candidate = $"{name}-{n}";
        }

        return candidate;
    }

    private async Task PruneAsync(string root, int keep, CancellationToken cancellationToken)
    {
        var own = new DirectoryInfo(root).EnumerateDirectories().Where(d => OwnName().IsMatch(d.Name))
            .OrderByDescending(d => d.Name, StringComparer.Ordinal).ToList();
        foreach (var old in own.Skip(keep))
        {
            // Note: a deleted backup is evidence too: an auditor sees which restore points went and when, not only which exist.
            var deleted = TryDelete(old.FullName);
            if (deleted)
            {
                LogPruned(logger, old.Name);
            }

            await audit.AppendAsync(Entry(PrunedAction, old.Name, deleted ? AuditOutcome.Success : AuditOutcome.Error,
                new() { ["keep"] = keep.ToString(CultureInfo.InvariantCulture) }), cancellationToken);
        }
    }

    private bool TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogNotDeleted(logger, ex, Path.GetFileName(path));
            return false;
        }
    }

    [LoggerMessage(EventId = 22005, Level = LogLevel.Information, Message = "SPE22005 Scheduled backup {Name} made: {Pieces} pieces in {Seconds:0.0} s.")]
    private static partial void LogCreated(ILogger logger, string name, int pieces, double seconds);

    [LoggerMessage(EventId = 22006, Level = LogLevel.Error, Message = "SPE22006 Scheduled backup {Name} failed; its partial directory was removed.")]
    private static partial void LogFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(EventId = 22007, Level = LogLevel.Information, Message = "SPE22007 Scheduled backup {Name} deleted: more than Backup:Keep are kept.")]
    private static partial void LogPruned(ILogger logger, string name);

    [LoggerMessage(EventId = 22008, Level = LogLevel.Warning, Message = "SPE22008 Backup directory {Name} could not be deleted.")]
    private static partial void LogNotDeleted(ILogger logger, Exception exception, string name);

    [LoggerMessage(EventId = 22009, Level = LogLevel.Critical, Message = "SPE22009 Scheduled backup {Name}: its outcome could not be written to the audit log.")]
    private static partial void LogNotAudited(ILogger logger, string name);
}
