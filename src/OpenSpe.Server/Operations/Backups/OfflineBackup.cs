using Microsoft.Extensions.Configuration;
using OpenSpe.Core.Audit;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>What <c>spe backup create|verify|restore</c> report, without names from the data.</summary>
/// <param name="CreatedAt">When the backup was made.</param>
/// <param name="Database">The database engine it holds (<c>sqlite</c> or <c>postgresql</c>).</param>
/// <param name="Pieces">Pieces in the backup.</param>
/// <param name="Bytes">Plaintext bytes in the backup.</param>
/// <param name="Restored">Pieces restored (and checked); 0 for create.</param>
/// <param name="ShreddedProjects">Projects the shred ledger names, whose keys and objects a restore leaves out.</param>
/// <param name="SkippedPieces">Pieces left out for them.</param>
/// <param name="AuditValid">For verify: the audit chain verified (null otherwise).</param>
/// <param name="AuditRecords">For verify: records checked.</param>
/// <param name="AuditProblem">For verify: what was wrong with the audit chain.</param>
/// <param name="ReadyStatus">For verify: what <c>/readyz</c> answered on the restored server.</param>
public sealed record BackupReport(DateTimeOffset CreatedAt, string Database, int Pieces, long Bytes, int Restored, int ShreddedProjects, int SkippedPieces,
    bool? AuditValid = null, long? AuditRecords = null, string? AuditProblem = null, int? ReadyStatus = null)
{
    /// <summary>For restore: staging directories of earlier restores into the same target that had stopped part-way and were removed first.</summary>
    public int StaleStagingRemoved { get; init; }

    /// <summary>True unless a verification found a problem.</summary>
    public bool Passed => AuditValid is not false && ReadyStatus is null or 200;
}

/// <summary>The backup verbs' entry point for the <c>spe</c> executable: everything behind it stays internal.</summary>
public static class OfflineBackup
{
    /// <summary>Backs up a data directory (the server may be running on it) into <paramref name="output"/>.</summary>
    /// <param name="dataDirectory">The server's data directory.</param>
    /// <param name="database">The server's database (null: SQLite in the data directory).</param>
    /// <param name="objectRoot">The object store's root when configured outside the data directory.</param>
    /// <param name="configurationFile">The configuration file to back up with the rest.</param>
    /// <param name="output">The new backup directory.</param>
    /// <param name="recipient">The backup public key.</param>
    /// <param name="configuration">The server's configuration, for <c>Vault:KeyManagement</c> (the project keys a project's own files are encrypted to).</param>
    /// <param name="cancellationToken">Cancels the backup.</param>
    /// <exception cref="BackupException">The backup cannot be made.</exception>
    public static async Task<BackupReport> CreateAsync(string dataDirectory, string? database, string? objectRoot, string? configurationFile, string output, Crypt4ghPublicKey recipient,
        Microsoft.Extensions.Configuration.IConfiguration? configuration, CancellationToken cancellationToken)
    {
        var keyManagement = new Vault.KeyManagementOptions();
        configuration?.GetSection(Vault.KeyManagementOptions.Section).Bind(keyManagement);
        var source = new BackupSource(dataDirectory, database, objectRoot, configurationFile, keyManagement);
        var manifest = await BackupWriter.CreateAsync(source, output, recipient, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        return new BackupReport(manifest.CreatedAt, manifest.Database, manifest.Pieces.Count, manifest.Pieces.Sum(p => p.Size), 0, manifest.Shredded.Count, 0);
    }

    /// <summary>
    /// Why <paramref name="output"/> cannot hold a backup of <paramref name="dataDirectory"/> (it is the data directory,
    /// lies inside it or contains it, or overlaps <paramref name="objectRoot"/>), symbolic links followed; null when it can.
    /// </summary>
    public static string? OutputProblem(string dataDirectory, string? objectRoot, string output) => BackupPaths.OutputProblem(output, dataDirectory, objectRoot);

    /// <summary>Restores a backup into a new, empty data directory.</summary>
    /// <exception cref="BackupException">A piece is missing, altered or does not decrypt; or the target is not empty.</exception>
    public static async Task<BackupReport> RestoreAsync(string backup, Crypt4ghPrivateKey key, string target, string? postgres, IReadOnlyList<string> shredLedgers, string? auditPublicKeyPem,
        CancellationToken cancellationToken)
    {
        var restore = await BackupReader.RestoreAsync(backup, key, target, postgres, shredLedgers, auditPublicKeyPem, cancellationToken).ConfigureAwait(false);
        return Report(restore);
    }

    /// <summary>Restores into a scratch directory, verifies hashes and the audit chain, starts the server on it and asks <c>/readyz</c>.</summary>
    /// <exception cref="BackupException">A piece is missing, altered or does not decrypt.</exception>
    public static async Task<BackupReport> VerifyAsync(string backup, Crypt4ghPrivateKey key, IReadOnlyList<AuditWitnessedCheckpoint> witnesses, string? auditPublicKeyPem, string? postgres,
        CancellationToken cancellationToken)
    {
        var drill = await BackupDrill.RunAsync(backup, key, witnesses, auditPublicKeyPem, postgres, cancellationToken).ConfigureAwait(false);
        return Report(drill.Restore) with
        {
            AuditValid = drill.Audit.Valid,
            AuditRecords = drill.Audit.RecordsChecked,
            AuditProblem = drill.Audit.Valid ? null : drill.Audit.Message ?? drill.Audit.Problem,
            ReadyStatus = drill.ReadyStatus,
        };
    }

    private static BackupReport Report(BackupRestore restore) =>
        new(restore.Manifest.CreatedAt, restore.Manifest.Database, restore.Manifest.Pieces.Count, restore.Bytes, restore.Restored, restore.Shredded.Count, restore.SkippedPieces)
        {
            StaleStagingRemoved = restore.StaleStagingRemoved,
        };
}
