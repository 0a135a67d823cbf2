using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// Start-up work on a restored data directory (OPR-21, SDR-2): refuses a directory that carries the marker of a restore
/// that did not finish; removes the files of every project the shred ledger names; and opens each project file a restore
/// left encrypted to its project's key (<c>*.from-backup.c4gh</c> under <c>projects/</c>) with that key, so the job output
/// comes back only for projects whose key still exists. The sealed files are looked for only while the restore's
/// <see cref="PendingMarker"/> is there, so an ordinary start does not walk every project file.
/// </summary>
internal sealed partial class RestoredProjectFiles(DataDirectory directory, IProjectKeyStore keys, ILogger<RestoredProjectFiles> logger) : IModuleStart
{
    /// <summary>What a restore appends to a project file's name while it is still encrypted to the project key.</summary>
    public const string Suffix = ".from-backup.c4gh";

    /// <summary>What a restore leaves in the data directory when it wrote sealed project files; removed once all were opened.</summary>
    public const string PendingMarker = "RESTORED-PROJECT-FILES";

    /// <summary>Before the audit log opens: a directory that is not a whole restore must not get as far as a single write.</summary>
    public int Order => ModuleStartOrder.AuditLog - 100;

    public async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Note: a server must never run on a restore that stopped part-way, because it would create new keys beside the missing
        // ones and serve a database without its files; the restore writes such a directory only under a staging name, so this
        // catches only a server pointed at the staging directory by hand.
        if (File.Exists(directory.File(BackupReader.IncompleteMarker)))
        {
            throw new SpeConfigurationException($"data directory {directory.Path} holds an incomplete restore ({BackupReader.IncompleteMarker}); "
                + "run 'spe backup restore' again into a new directory");
        }

        var marker = directory.File(PendingMarker);
        var pending = File.Exists(marker);
        var projects = directory.File(BackupWriter.ProjectsFolder);
        if (!Directory.Exists(projects))
        {
            if (pending)
            {
                File.Delete(marker);
            }

            return;
        }

        var shredded = ShredLedger.Read(directory.File(ShredLedger.FileName)).Select(e => e.ProjectId).ToHashSet(StringComparer.Ordinal);
        foreach (var project in Directory.EnumerateDirectories(projects))
        {
            var projectId = Path.GetFileName(project);
            if (shredded.Contains(projectId))
            {
                // Note: an erased project's files go whatever put them here (a restore without the newer ledger, a copy by
                // hand), because the ledger is the record that its data must never be served again.
                Directory.Delete(project, recursive: true);
                LogShreddedFilesRemoved(logger, projectId);
                continue;
            }

            if (pending)
            {
                foreach (var sealedFile in Directory.EnumerateFiles(project, "*" + Suffix, SearchOption.AllDirectories))
                {
                    await OpenAsync(projectId, sealedFile, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        if (pending)
        {
            // Note: the marker goes only after every sealed file was handled, so a start stopped part-way looks again next time
            // (opening is idempotent: an opened file no longer has the suffix).
            File.Delete(marker);
            DurableFiles.SyncDirectory(directory.Path);
        }
    }

    private async Task OpenAsync(string projectId, string sealedFile, CancellationToken cancellationToken)
    {
        if (!ProjectIds.IsValid(projectId) || !await keys.ExistsAsync(projectId, cancellationToken).ConfigureAwait(false))
        {
            // Note: without the project's key the file can never be read; it is removed so nothing waits for a key that is gone.
            File.Delete(sealedFile);
            LogSealedFileDropped(logger, projectId);
            return;
        }

        var target = sealedFile[..^Suffix.Length];
        var temporary = DurableFiles.TemporaryPathFor(target);
        try
        {
            await keys.UsePrivateKeyAsync(projectId, async key =>
            {
                await using var input = File.OpenRead(sealedFile);
                await using var output = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
                await Crypt4ghFile.DecryptAsync(input, output, key, cancellationToken: cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, target, overwrite: true);
            File.Delete(sealedFile);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(target)!);
        }
        catch (Exception ex) when (ex is Crypt4ghException or ProjectKeyException)
        {
            // Fail closed: the file stays encrypted and is not served (the job log reader reads only the plain name).
            LogSealedFileUnreadable(logger, ex, projectId);
        }
        finally
        {
            DurableFiles.TryDelete(temporary);
        }
    }

    [LoggerMessage(EventId = 22012, Level = LogLevel.Warning, Message = "SPE22012 The files of crypto-shredded project {ProjectId} were found in the data directory and removed (the shred ledger names it).")]
    private static partial void LogShreddedFilesRemoved(ILogger logger, string projectId);

    [LoggerMessage(EventId = 22013, Level = LogLevel.Information, Message = "SPE22013 A restored file of project {ProjectId} was removed: the project has no key any more, so it cannot be read.")]
    private static partial void LogSealedFileDropped(ILogger logger, string projectId);

    [LoggerMessage(EventId = 22014, Level = LogLevel.Error, Message = "SPE22014 A restored file of project {ProjectId} does not decrypt with the project's key; it is kept encrypted and not served.")]
    private static partial void LogSealedFileUnreadable(ILogger logger, Exception exception, string projectId);
}
