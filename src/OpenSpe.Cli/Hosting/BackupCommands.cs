using System.CommandLine;
using System.Globalization;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Crypt4gh;
using OpenSpe.Cli.Output;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Operations.Backups;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Hosting;

/// <summary>
/// <c>spe backup create|verify|restore</c> (OPR-21, OPR-24, OPR-27): encrypted backups of a data directory, offline tools
/// that work on the directory (the server may keep running on it) with the server's own code.
/// </summary>
internal static class BackupCommands
{
    private const string KeyHelp = "The backup secret key ('spe crypt4gh keygen'; keep it offline). A locked key is unlocked with "
        + Passphrase.EnvironmentVariable + " or a prompt on the terminal, as for 'spe crypt4gh'.";

    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("backup", "Encrypted backups: create one from a data directory (safe while the server runs), verify one by a restore drill "
            + "(hashes, audit chain, the server starts on it), restore one into a new data directory. Every piece is Crypt4GH-encrypted to a backup public key; "
            + "the backup directory holds no plaintext. Exit status: 0 success, 1 failure (one line on standard error), 2 bad usage.");
        command.Subcommands.Add(CreateVerb());
        command.Subcommands.Add(Verify(env));
        command.Subcommands.Add(Restore());
        command.Subcommands.Add(History(env));
        return command;
    }

    private static Command CreateVerb()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The server's data directory.", Required = true };
        var output = new Option<string>("--out")
        {
            Description = "The new (or empty) backup directory, outside the data directory (and the object store); symbolic links are followed.",
            HelpName = "dir",
            Required = true,
        };
        var recipient = new Option<string>("--recipient-pk") { Description = "The backup public key ('spe crypt4gh keygen --pk').", HelpName = "file", Required = true };
        var database = CommonOptions.Database();
        var config = new Option<FileInfo?>("--config") { Description = "The server's configuration file: read for the database and object store, and backed up with the rest." };
        var json = CommonOptions.Json();
        var command = new Command("create", "Back up a data directory: the database (SQLite online backup or pg_dump), the object store, wrapped project keys, "
            + "signing keys and the configuration, each piece encrypted to --recipient-pk, with an encrypted manifest of SHA-256 sums signed by the audit key.")
        {
            dataDir, output, recipient, database, config, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async () =>
        {
            var configFile = parse.GetValue(config);
            var configuration = ServerCommand.BuildConfiguration(configFile, dev: false, parse.GetValue(dataDir), urls: null, parse.GetValue(database));
            var objectRoot = configuration["Vault:ObjectStore:Root"];
            if (OfflineBackup.OutputProblem(parse.GetValue(dataDir)!, objectRoot, parse.GetValue(output)!) is { } problem)
            {
                // Note: checked before anything is read or written, because --out inside --data-dir is a mistake in the
                // command line (exit 2), not a failure of the backup.
                throw new SpeUsageException("--out " + problem);
            }

            var key = Crypt4ghIo.LoadPublicKey(parse.GetValue(recipient)!);
            var report = await OfflineBackup.CreateAsync(parse.GetValue(dataDir)!, configuration["Database:ConnectionString"], objectRoot, configFile?.FullName,
                parse.GetValue(output)!, key, configuration, cancellationToken);
            Write(parse, parse.GetValue(json), report);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Verify(ClientEnvironment env)
    {
        var backup = new Argument<string>("backup") { Description = "The backup directory." };
        var sk = new Option<string>("--sk") { Description = KeyHelp, HelpName = "file", Required = true };
        var witness = new Option<FileInfo[]>("--witness")
        {
            Description = "Witness files ('spe audit witness'): the restored audit log must contain every checkpoint in them exactly.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "file",
        };
        var publicKey = AuditPublicKey();
        var database = new Option<string?>("--database") { Description = "For a PostgreSQL backup: an empty scratch database (\"Host=...\") to restore into for the drill." };
        var record = new Option<bool>("--record")
        {
            Description = "Record the drill's outcome (passed or not, audit records verified, /readyz status) in the server's audit log as evidence, "
                + "over the API as the operator signed in with 'spe login'.",
        };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Restore drill: restore into a scratch directory, check every piece's SHA-256, verify the audit chain (against --witness files), "
            + "start the server on it on a loopback port and ask /readyz; exit 1 naming the first bad piece or check. The scratch directory is removed afterwards.")
        {
            backup, sk, witness, publicKey, database, record, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async () =>
        {
            await WarnIfOthersCanReadAsync(parse, parse.GetValue(sk)!);
            using var key = Crypt4ghIo.LoadPrivateKey(parse.GetValue(sk)!);
            var witnesses = AuditCommands.ReadWitnesses(parse.GetValue(witness) ?? []);
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(parse.GetValue(backup)!)));
            BackupReport report;
            try
            {
                report = await OfflineBackup.VerifyAsync(parse.GetValue(backup)!, key, witnesses, ReadPem(parse.GetValue(publicKey)), parse.GetValue(database), cancellationToken);
            }
            catch (BackupException ex) when (parse.GetValue(record))
            {
                // Note: a backup that cannot even be restored (a piece altered or missing, a manifest that does not verify) is the
                // drill's most important finding, so it is recorded as a failed drill before the command fails with it.
                try
                {
                    await RecordDrillAsync(env, parse, new BackupDrillRecordRequest(name, false, null, 0, 0, Limit(ProblemText.OneLine(ex.Message))), cancellationToken);
                }
                catch (SpeClientException recordFailed)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"spe backup verify: the failed drill could not be recorded: {ProblemText.OneLine(recordFailed.Message)}");
                }

                throw;
            }

            Write(parse, parse.GetValue(json), report);
            await WarnIfKeyFromBackupAsync(parse, parse.GetValue(publicKey));
            if (parse.GetValue(record))
            {
                // Note: a drill that failed on /readyz sends that as its problem too, because the server refuses a failed drill that
                // does not say what failed.
                var problem = report.Passed ? null : report.AuditProblem ?? $"the restored server is not ready (/readyz answered {report.ReadyStatus})";
                await RecordDrillAsync(env, parse, new BackupDrillRecordRequest(name, report.Passed, report.CreatedAt, report.AuditRecords ?? 0, report.ReadyStatus ?? 0, problem),
                    cancellationToken);
            }

            if (!report.Passed)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(report.AuditValid is false
                    ? $"spe backup verify: the restored audit chain does not verify: {report.AuditProblem}"
                    : $"spe backup verify: the restored server is not ready (/readyz answered {report.ReadyStatus})");
            }

            return report.Passed ? ExitCodes.Success : ExitCodes.Failure;
        }));
        return command;
    }

    private static async Task RecordDrillAsync(ClientEnvironment env, ParseResult parse, BackupDrillRecordRequest drill, CancellationToken cancellationToken)
    {
        using var api = SpeApiClient.Open(env);
        await api.CallAsync<BackupEventView>(HttpMethod.Post, "api/v1/operations/backups/drills", drill, cancellationToken);
        await parse.InvocationConfiguration.Error.WriteLineAsync($"spe backup verify: the drill of {drill.Backup} is recorded in the audit log{(drill.Passed ? "" : " as failed")}.");
    }

    /// <summary>The server keeps a drill's problem to 1000 characters.</summary>
    private static string Limit(string problem) => problem.Length <= 1000 ? problem : problem[..999] + "…";

    private static Command Restore()
    {
        var backup = new Argument<string>("backup") { Description = "The backup directory." };
        var sk = new Option<string>("--sk") { Description = KeyHelp, HelpName = "file", Required = true };
        var dataDir = new Option<string>("--data-dir") { Description = "The new data directory (must not exist or be empty).", Required = true };
        var database = new Option<string?>("--database") { Description = "For a PostgreSQL backup: the empty database (\"Host=...\") to restore into." };
        var ledger = new Option<FileInfo[]>("--shred-ledger")
        {
            Description = "Shred ledgers newer than the backup (the Backup:ShredLedgerPath copy): projects they name stay shredded (their keys and objects are not restored).",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "file",
        };
        var publicKey = AuditPublicKey();
        var json = CommonOptions.Json();
        var command = new Command("restore", "Restore a backup into a new data directory, checking every piece's SHA-256 and the manifest's signature; "
            + "crypto-shredded projects (the backup's ledger and --shred-ledger) stay shredded.")
        {
            backup, sk, dataDir, database, ledger, publicKey, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async () =>
        {
            await WarnIfOthersCanReadAsync(parse, parse.GetValue(sk)!);
            using var key = Crypt4ghIo.LoadPrivateKey(parse.GetValue(sk)!);
            var ledgers = (parse.GetValue(ledger) ?? []).Select(f => f.Exists ? f.FullName : throw new SpeUsageException($"shred ledger {f.FullName} does not exist")).ToList();
            var report = await OfflineBackup.RestoreAsync(parse.GetValue(backup)!, key, parse.GetValue(dataDir)!, parse.GetValue(database), ledgers, ReadPem(parse.GetValue(publicKey)), cancellationToken);
            Write(parse, parse.GetValue(json), report);
            await WarnIfKeyFromBackupAsync(parse, parse.GetValue(publicKey));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// Without <c>--public-key</c> the manifest's signature is checked with the audit key the backup itself carries, which
    /// shows the pieces are whole but not that this SPE made them: whoever can write the backup directory can sign a forged
    /// one with a key of their own (the backup public key is public). Said on standard error after the result, so the
    /// operator knows what the check was worth.
    /// </summary>
    private static async Task WarnIfKeyFromBackupAsync(ParseResult parse, FileInfo? publicKey)
    {
        if (publicKey is null)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"spe backup {parse.CommandResult.Command.Name}: warning: the manifest's signature was "
                + "checked with the audit key inside the backup, which shows the backup is whole but not that your SPE made it; give --public-key "
                + "with the key from 'spe audit public-key' kept apart from the server.");
        }
    }

    /// <summary>
    /// The backup secret key opens every backup, so a copy others on the machine can read is said at once (as ssh does for
    /// its keys). A warning rather than a refusal: a key may sit on a medium whose modes mean nothing (a FAT stick), and a
    /// locked key still needs its passphrase.
    /// </summary>
    private static async Task WarnIfOthersCanReadAsync(ParseResult parse, string path)
    {
        const UnixFileMode OthersRead = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if (OperatingSystem.IsWindows() || !File.Exists(path) || (File.GetUnixFileMode(path) & OthersRead) == 0)
        {
            return;
        }

        await parse.InvocationConfiguration.Error.WriteLineAsync($"spe backup {parse.CommandResult.Command.Name}: warning: the secret key {path} can be read "
            + "or written by others on this machine (mode " + Convert.ToString((int)File.GetUnixFileMode(path), 8) + "); keep it readable by its owner only "
            + $"(chmod 600 {path}).");
    }

    private static Command History(ClientEnvironment env)
    {
        var limit = new Option<int?>("--limit") { Description = "At most this many events (1-500, default 50)." };
        var json = CommonOptions.Json();
        var command = new Command("history", "The evidence of backups and restore drills from the server's audit log: scheduled backups made or failed, "
            + "drills recorded with 'verify --record', newest first (role operator or auditor).")
        {
            limit, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var query = parse.GetValue(limit) is { } n ? $"?limit={n.ToString(CultureInfo.InvariantCulture)}" : "";
            var (raw, evidence) = await api.CallAsync<BackupEvidenceView>(HttpMethod.Get, "api/v1/operations/backups" + query, null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.WriteFields(streams.Out,
            [
                ("Schedule", evidence.Schedule is { } every ? $"every {every}" : "none (backups are made by 'spe backup create')"),
                ("Last backup", evidence.LastBackup is { } b ? $"{b.Backup} at {TimeText.ForPeople(b.At)}" : "none recorded"),
                ("Last drill", evidence.LastDrill is { } d ? $"{d.Backup} at {TimeText.ForPeople(d.At)}: {(d.Outcome == "success" ? "passed" : "FAILED")} (by {d.RecordedBy})" : "none recorded"),
            ]);
            streams.Out.WriteLine();
            TableWriter.Write(streams.Out, ["AT", "KIND", "BACKUP", "OUTCOME", "BY"],
                evidence.Events.Select(e => (IReadOnlyList<string?>)[TimeText.ForPeople(e.At), e.Kind, e.Backup, e.Outcome, e.RecordedBy]), "No backups or drills recorded.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Option<FileInfo?> AuditPublicKey() => new("--public-key")
    {
        Description = "The audit public key ('spe audit public-key') kept apart from the server: the manifest's signature must verify with it (default: the key in the backup).",
    };

    private static string? ReadPem(FileInfo? file) => file is null ? null : File.ReadAllText(file.FullName);

    private static void Write(ParseResult parse, bool json, BackupReport report)
    {
        if (json)
        {
            JsonOutput.Write(parse.InvocationConfiguration.Output, report);
            return;
        }

        TableWriter.WriteFields(parse.InvocationConfiguration.Output,
        [
            ("Created", TimeText.ForPeople(report.CreatedAt)),
            ("Database", report.Database),
            ("Pieces", report.Pieces.ToString(CultureInfo.InvariantCulture)),
            ("Bytes", report.Bytes.ToString(CultureInfo.InvariantCulture)),
            ("Restored", report.Restored == 0 ? null : report.Restored.ToString(CultureInfo.InvariantCulture)),
            ("Shredded projects", report.ShreddedProjects.ToString(CultureInfo.InvariantCulture)),
            ("Skipped (shredded)", report.SkippedPieces == 0 ? null : report.SkippedPieces.ToString(CultureInfo.InvariantCulture)),
            ("Stale restores removed", report.StaleStagingRemoved == 0 ? null : report.StaleStagingRemoved.ToString(CultureInfo.InvariantCulture)),
            ("Audit chain", report.AuditValid is null ? null : report.AuditValid.Value ? $"valid ({report.AuditRecords} records)" : $"INVALID: {report.AuditProblem}"),
            ("Ready", report.ReadyStatus is null ? null : report.ReadyStatus == 200 ? "yes (/readyz 200)" : $"NO (/readyz {report.ReadyStatus})"),
        ]);
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<Task<int>> action)
    {
        var verb = "spe backup " + parse.CommandResult.Command.Name;
        try
        {
            return await action();
        }
        catch (SpeUsageException ex)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Usage;
        }
        catch (SpeClientException ex)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ex.ExitCode;
        }
        catch (Exception ex) when (ex is BackupException or SpeConfigurationException or Crypt4ghException or IOException or UnauthorizedAccessException or FormatException
            or System.Data.Common.DbException or System.Security.Cryptography.CryptographicException)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
    }
}
