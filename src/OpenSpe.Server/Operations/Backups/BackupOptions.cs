using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>The server's part in backups: where the shred ledger's outside copy goes.</summary>
internal sealed class BackupOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Backup";

    /// <summary>
    /// An absolute path outside the data directory (e.g. on the backup volume) where the server also appends every
    /// crypto-shredded project, so a restore after losing the data directory still knows which keys must stay destroyed.
    /// </summary>
    public string? ShredLedgerPath { get; set; }
}

/// <summary>Checks <see cref="BackupOptions"/> at start.</summary>
internal sealed class BackupOptionsValidator : IValidateOptions<BackupOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ShredLedgerPath is { } path && (path.Length == 0 || !Path.IsPathRooted(path))
            ? ValidateOptionsResult.Fail("Backup:ShredLedgerPath must be an absolute path (or unset).")
            : ValidateOptionsResult.Success;
    }
}
