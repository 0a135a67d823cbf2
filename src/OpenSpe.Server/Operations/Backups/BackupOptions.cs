using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>The server's part in backups: where the shred ledger's outside copy goes, and scheduled backups (OPR-21).</summary>
internal sealed class BackupOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Backup";

    /// <summary>
    /// An absolute path outside the data directory (e.g. on the backup volume) where the server also appends every
    /// crypto-shredded project, so a restore after losing the data directory still knows which keys must stay destroyed.
    /// </summary>
    public string? ShredLedgerPath { get; set; }

    /// <summary>How often the server backs itself up; unset means never (then run <c>spe backup create</c> from a scheduler).</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>Where scheduled backups go: an absolute path outside the data directory, one directory a backup.</summary>
    public string? Directory { get; set; }

    /// <summary>The backup public key file (<c>spe crypt4gh keygen</c>); its secret key stays offline, never on the server.</summary>
    public string? RecipientPublicKeyPath { get; set; }

    /// <summary>How many scheduled backups are kept: after a new one succeeds the oldest beyond this number are deleted.</summary>
    [Range(1, 1000)]
    public int Keep { get; set; } = 14;

    /// <summary>The server's configuration file, backed up with the rest (optional).</summary>
    public string? ConfigurationFile { get; set; }
}

/// <summary>Checks <see cref="BackupOptions"/> at start, so a schedule that could never make a backup stops the server with one clear line.</summary>
internal sealed class BackupOptionsValidator(string dataDirectory) : IValidateOptions<BackupOptions>
{
    private static readonly TimeSpan Shortest = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Longest = TimeSpan.FromDays(31);

    public ValidateOptionsResult Validate(string? name, BackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ShredLedgerPath is { } path && (path.Length == 0 || !Path.IsPathRooted(path)))
        {
            failures.Add("Backup:ShredLedgerPath must be an absolute path (or unset).");
        }

        if (options.Interval is { } interval)
        {
            if (interval < Shortest || interval > Longest)
            {
                failures.Add("Backup:Interval must be between 00:01:00 and 31.00:00:00 (or unset for no scheduled backups).");
            }

            if (string.IsNullOrEmpty(options.Directory) || !Path.IsPathRooted(options.Directory))
            {
                failures.Add("Backup:Directory must be an absolute path when Backup:Interval is set.");
            }
            else if (BackupPaths.Overlap(options.Directory, dataDirectory) is not null)
            {
                // Note: refused because a backup inside the data directory is lost with it and the next backup would copy the
                // last one (and one around it would copy itself); the same check refuses 'spe backup create --out'.
                failures.Add("Backup:Directory must be outside the data directory (and must not contain it).");
            }

            if (string.IsNullOrEmpty(options.RecipientPublicKeyPath) || !Path.IsPathRooted(options.RecipientPublicKeyPath))
            {
                failures.Add("Backup:RecipientPublicKeyPath must be the absolute path of the backup public key when Backup:Interval is set.");
            }
            else if (!Readable(options.RecipientPublicKeyPath))
            {
                failures.Add($"Backup:RecipientPublicKeyPath ({options.RecipientPublicKeyPath}) is not a Crypt4GH public key ('spe crypt4gh keygen').");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool Readable(string file)
    {
        try
        {
            _ = Crypt4ghPublicKey.Load(file);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Crypt4ghException or FormatException)
        {
            return false;
        }
    }
}
