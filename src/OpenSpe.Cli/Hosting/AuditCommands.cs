using System.CommandLine;
using System.Globalization;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Commands;
using OpenSpe.Cli.Output;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;

namespace OpenSpe.Cli.Hosting;

/// <summary>
/// <c>spe audit ...</c>: offline tools that work on the data directory (or a copy of it) with the server's own audit code, and
/// the client verb <c>witness</c> (<see cref="AuditWitnessCommand"/>), which uses the API only.
/// </summary>
internal static class AuditCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("audit", "Verify and export the audit log (offline on a data directory, or with --server over the API as the signed-in auditor), "
            + "purge it and show its public key (offline); witness its checkpoints (online, as auditor).");
        command.Subcommands.Add(Verify(env));
        command.Subcommands.Add(Export(env));
        command.Subcommands.Add(PublicKey());
        command.Subcommands.Add(Purge());
        command.Subcommands.Add(AuditWitnessCommand.Create(env));
        return command;
    }

    /// <summary>The options that only the data-directory mode reads, given on a command line that also says --server.</summary>
    private static string? OfflineOnly(ParseResult parse, params Option[] options) =>
        options.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;

    private static Command Verify(ClientEnvironment env)
    {
        var dataDir = CommonOptions.DataDir(required: false);
        var database = CommonOptions.Database();
        var publicKey = new Option<FileInfo?>("--public-key") { Description = "Verify against this public key (PEM) instead of the one in the data directory; keep it apart from the server." };
        var witness = new Option<FileInfo[]>("--witness")
        {
            Description = "Witness files ('spe audit witness'): the log must contain every checkpoint in them exactly (same sequence, same hash, still stored).",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "file",
        };
        var json = CommonOptions.Json();
        var server = AuditApiCommands.ServerOption();
        var command = new Command("verify", "Check every record and checkpoint; exit 1 and name the first bad sequence number if anything was changed, removed, inserted or reordered, "
            + "if the log is empty, or if it lacks a checkpoint a witness file holds. With --server the server verifies its own log (role auditor; no witnesses: "
            + "keep witness files for the offline check on a copy of the data directory).")
        {
            dataDir, database, publicKey, witness, json, server,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!AuditApiCommands.Requested(parse, server))
            {
                return await VerifyOfflineAsync(parse, dataDir, database, publicKey, witness, json, cancellationToken);
            }

            if (OfflineOnly(parse, dataDir, database, publicKey, witness) is { } offline)
            {
                return await ClientCommand.RunAsync(parse, _ => throw new SpeUsageException($"--server verifies on the server; {offline} is for the data-directory mode"));
            }

            return await AuditApiCommands.VerifyAsync(parse, server, parse.GetValue(json), env, cancellationToken);
        });
        return command;
    }

    private static async Task<int> VerifyOfflineAsync(ParseResult parse, Option<string> dataDir, Option<string?> database, Option<FileInfo?> publicKey, Option<FileInfo[]> witness,
        Option<bool> json, CancellationToken cancellationToken) =>
        await RunAsync(async () =>
        {
            using var log = OfflineAuditLog.Open(parse.GetValue(dataDir)!, parse.GetValue(database), parse.GetValue(publicKey)?.FullName);
            var witnessed = ReadWitnesses(parse.GetValue(witness) ?? []);
            var result = await log.VerifyAsync(witnessed, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(Console.Out, result);
            }
            else
            {
                AuditApiCommands.WriteVerification(Console.Out, result);
            }

            return result.Valid ? ExitCodes.Success : ExitCodes.Failure;
        });

    private static Command Export(ClientEnvironment env)
    {
        var dataDir = CommonOptions.DataDir(required: false);
        var database = CommonOptions.Database();
        var since = TimeText.Option("--since", "Only records at or after this time.");
        var until = TimeText.Option("--until", "Only records before this time.");
        var actor = AuditExportFilters.Option("--actor", "Only records of this actor (username or subject id).", "name");
        var action = AuditExportFilters.Option("--action", "Only records of this action (exact name, e.g. audit.export).", "name");
        var project = AuditExportFilters.Option("--project", "Only records about this project (its id).", "id");
        var format = new Option<string>("--format") { Description = "jsonl or csv.", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write to this file instead of standard output." };
        var server = AuditApiCommands.ServerOption();
        var command = new Command("export", "Export audit records as JSON Lines or CSV, by time, actor, action and project, from a data directory or with --server over "
            + "the API (role auditor; streamed).")
        {
            dataDir, database, since, until, actor, action, project, format, output, server,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!AuditApiCommands.Requested(parse, server))
            {
                return await ExportOfflineAsync(parse, dataDir, database, since, until, new(parse.GetValue(actor), parse.GetValue(action), parse.GetValue(project)), format, output,
                    cancellationToken);
            }

            if (OfflineOnly(parse, dataDir, database) is { } offline)
            {
                return await ClientCommand.RunAsync(parse, _ => throw new SpeUsageException($"--server exports from the server; {offline} is for the data-directory mode"));
            }

            return await AuditApiCommands.ExportAsync(parse, server, parse.GetValue(since), parse.GetValue(until),
                new(parse.GetValue(actor), parse.GetValue(action), parse.GetValue(project)), parse.GetValue(format)!, parse.GetValue(output), env, cancellationToken);
        });
        return command;
    }

    private static async Task<int> ExportOfflineAsync(ParseResult parse, Option<string> dataDir, Option<string?> database, Option<DateTimeOffset?> since, Option<DateTimeOffset?> until,
        AuditExportFilters filters, Option<string> format, Option<FileInfo?> output, CancellationToken cancellationToken) =>
        await RunAsync(async () =>
        {
            using var log = OfflineAuditLog.Open(parse.GetValue(dataDir)!, parse.GetValue(database));
            var csv = parse.GetValue(format) == "csv";
            if (parse.GetValue(output) is { } file)
            {
                await using var stream = file.Create();
                await log.ExportAsync(filters.Actor, filters.Action, filters.Project, parse.GetValue(since), parse.GetValue(until), csv, stream, cancellationToken);
            }
            else
            {
                await using var stdout = Console.OpenStandardOutput();
                await log.ExportAsync(filters.Actor, filters.Action, filters.Project, parse.GetValue(since), parse.GetValue(until), csv, stdout, cancellationToken);
            }

            return ExitCodes.Success;
        });

    private static Command PublicKey()
    {
        var dataDir = CommonOptions.DataDir(required: false);
        var json = CommonOptions.Json();
        var command = new Command("public-key", "Print the checkpoint-signing public key (PEM) to keep apart from the server.") { dataDir, json };
        command.SetAction(async (parse, _) => await RunAsync(() =>
        {
            using var log = OfflineAuditLog.Open(parse.GetValue(dataDir)!, database: null);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(Console.Out, new AuditPublicKeyView(log.KeyId, "ES256", log.ExportPublicKeyPem()));
            }
            else
            {
                Console.Out.Write(log.ExportPublicKeyPem());
                Console.Out.WriteLine();
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Purge()
    {
        var dataDir = CommonOptions.DataDir(required: false);
        var database = CommonOptions.Database();
        var retention = new Option<int>("--retention-days") { Description = "Retention in days; values below 365 are refused.", DefaultValueFactory = _ => 400 };
        var json = CommonOptions.Json();
        var command = new Command("purge", "Remove only records older than the retention period (at least 365 days) and sign a purge anchor so the rest still verifies.")
        {
            dataDir, database, retention, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(async () =>
        {
            var days = parse.GetValue(retention);
            if (days < OfflineAuditLog.MinimumRetentionDays)
            {
                await Console.Error.WriteLineAsync($"spe audit purge: --retention-days must be at least {OfflineAuditLog.MinimumRetentionDays} (EHDSR-8, OPR-17)");
                return ExitCodes.Usage;
            }

            var result = await OfflineAuditLog.PurgeAsync(parse.GetValue(dataDir)!, parse.GetValue(database), days, Environment.UserName, cancellationToken);

            if (parse.GetValue(json))
            {
                JsonOutput.Write(Console.Out, result);
            }
            else
            {
                TableWriter.WriteFields(Console.Out,
                [
                    ("Removed", result.Removed.ToString(CultureInfo.InvariantCulture)),
                    ("Purge anchor", result.AnchorSequence?.ToString(CultureInfo.InvariantCulture) ?? "none (nothing older than retention)"),
                    ("Cutoff", TimeText.ForPeople(result.Cutoff)),
                    ("Retention days", result.RetentionDays.ToString(CultureInfo.InvariantCulture)),
                ]);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Every checkpoint of every witness file, each named by its file and line.</summary>
    internal static List<AuditWitnessedCheckpoint> ReadWitnesses(FileInfo[] files)
    {
        var result = new List<AuditWitnessedCheckpoint>();
        foreach (var file in files)
        {
            if (!file.Exists)
            {
                throw new IOException($"witness file {file.FullName} does not exist");
            }

            try
            {
                foreach (var (line, document) in AuditWitnessFile.ReadAll(file.FullName))
                {
                    result.Add(new AuditWitnessedCheckpoint(document.ToCheckpoint(), $"witness {file.FullName} line {line}"));
                }
            }
            catch (FormatException ex)
            {
                throw new IOException(ex.Message, ex);
            }
        }

        return result;
    }

    private static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or System.Security.Cryptography.CryptographicException or InvalidOperationException
            or AuditLogRegressionException)
        {
            await Console.Error.WriteLineAsync($"spe audit: {ex.Message.Split('\n')[0]}");
            return ExitCodes.Failure;
        }
    }
}
