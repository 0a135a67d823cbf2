using System.CommandLine;
using OpenSpe.Cli;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Commands;
using OpenSpe.Cli.Hosting;

var root = new RootCommand("spe: the OpenSPE Secure Processing Environment. 'spe server' runs it; the other verbs are its client and offline tools.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(AuditCommands.Create());
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(LoginCommands.Login());
root.Subcommands.Add(LoginCommands.WhoAmI());
root.Subcommands.Add(LoginCommands.Logout());
root.Subcommands.Add(AccountCommands.Create());
root.Subcommands.Add(AdminCommands.Create());
root.Subcommands.Add(PermitCommands.Create());
root.Subcommands.Add(ProjectCommands.Create());
root.Subcommands.Add(HaltCommands.Halt());
root.Subcommands.Add(HaltCommands.Resume());
root.Subcommands.Add(Crypt4ghCommands.Create());
root.Subcommands.Add(UploadCommands.Create());
root.Subcommands.Add(DatasetCommands.Create());
root.Subcommands.Add(JobCommands.Create());
root.Subcommands.Add(DesktopCommands.Create());
root.Subcommands.Add(AirlockCommands.Create());
root.Subcommands.Add(ExportCommands.Create());
root.Subcommands.Add(ExportCommands.CreateImport());
root.Subcommands.Add(BackupCommands.Create());
root.Subcommands.Add(FederationAnalysisCommands.AddTo(FederationCaCommands.Create()));
root.Subcommands.Add(IncidentCommands.Create());
root.Subcommands.Add(AlertCommands.Create());
root.Subcommands.Add(TrainingCommands.Create());
root.Subcommands.Add(ComplianceCommands.Create());
root.Subcommands.Add(OperationsCommands.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"spe: {error.Message}");
    }

    // The command that failed to parse, so the help it points to is the one that explains the option.
    await Console.Error.WriteLineAsync($"Run '{ClientCommand.CommandPath(parse)} --help' for usage.");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync();
