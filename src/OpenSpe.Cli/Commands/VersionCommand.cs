using System.CommandLine;
using System.Reflection;
using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe version</c>.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("version", "Print the version of this spe command.") { json };
        command.SetAction(parse =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            if (parse.GetValue(json))
            {
                JsonOutput.Write(Console.Out, new { name = "spe", version });
            }
            else
            {
                TableWriter.WriteFields(Console.Out, [("Name", "spe"), ("Version", version)]);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
