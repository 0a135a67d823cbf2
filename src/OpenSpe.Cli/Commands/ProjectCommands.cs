using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Crypt4gh;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe project ...</c>: the projects (one per permit) the signed-in user belongs to or oversees.</summary>
internal static class ProjectCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("project", "List and show projects. Each permit has one project; its members are the data users of the permit's current version. "
            + "You see only the projects you belong to (hdab, operator and auditor see their metadata, also of a halted project).")
        {
            List(env),
            Show(env),
            PublicKey(env),
        };
    }

    private static Command List(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List your projects with their state, whether they are halted, their validity period and your roles in them.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, projects) = await api.CallAsync<List<ProjectSummary>>(HttpMethod.Get, "api/v1/projects", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.Write(streams.Out, ["ID", "REFERENCE", "TITLE", "STATE", "HALTED", "VALID FROM", "VALID UNTIL", "MY ROLES", "PERMIT"],
                    projects.Select(p => (IReadOnlyList<string?>)[p.Id, p.Reference, p.Title, p.State, p.Halted ? "yes" : "no",
                        Time(p.ValidFrom), Time(p.ValidUntil), string.Join(",", p.MyRoles ?? []), p.PermitId]), "No projects.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Show(ClientEnvironment env)
    {
        var id = new Argument<string>("id") { Description = "The project's id, from 'spe project list'." };
        var json = CommonOptions.Json();
        var command = new Command("show", "Show a project: its permit, state, whether it is halted, its members and its datasets.") { id, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, project) = await api.CallAsync<ProjectView>(HttpMethod.Get, $"api/v1/projects/{Segment(parse.GetValue(id)!)}", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.WriteFields(streams.Out,
            [
                ("Id", project.Id),
                ("Permit", project.PermitId),
                ("Reference", project.Reference),
                ("Title", project.Title),
                ("State", project.State),
                ("Halted", project.Halted ? "yes" : "no"),
                ("Valid from", Time(project.ValidFrom)),
                ("Valid until", Time(project.ValidUntil)),
            ]);
            streams.Out.WriteLine();
            TableWriter.Write(streams.Out, ["MEMBER", "ISSUER", "SUBJECT", "NAME", "ROLE"],
                (project.Members ?? []).Select(m => (IReadOnlyList<string?>)[m.Username ?? "-", m.Issuer ?? "-", m.Subject ?? "-", m.Name ?? "-", m.Role]), "No members.");
            streams.Out.WriteLine();
            TableWriter.Write(streams.Out, ["DATASET", "TITLE", "HOLDER"],
                (project.Datasets ?? []).Select(d => (IReadOnlyList<string?>)[d.Id, d.Title, d.Holder]), "No datasets.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command PublicKey(ClientEnvironment env)
    {
        var id = new Argument<string>("project") { Description = "The project's id, from 'spe project list'." };
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Write the key to this file (mode 0644) instead of standard output; 'spe crypt4gh encrypt --recipient-pk FILE' reads it.",
            HelpName = "file",
        };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var json = new Option<bool>("--json") { Description = "Print the server's answer (publicKey, fingerprint) as JSON instead of the key file." };
        var command = new Command("public-key", "Print a project's Crypt4GH public key in the Crypt4GH public key file format, to encrypt files for the project "
            + "before 'spe upload' (members: data holders, researchers, applications). The key's SHA-256 fingerprint goes to standard error: "
            + "compare it with the one the data access body gave you.")
        {
            id, output, force, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var projectId = parse.GetValue(id)!.Trim();
            var path = parse.GetValue(output);
            if (path is not null && parse.GetValue(json))
            {
                throw new SpeUsageException("--json prints to standard output; it takes no --out");
            }

            using var api = SpeApiClient.Open(env);
            var key = await UploadCommands.FetchKeyAsync(api, projectId, null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, new ProjectPublicKeyView(key.ToPem(), key.Fingerprint));
            }
            else if (path is null)
            {
                streams.Out.Write(key.ToPem());
            }
            else
            {
                Crypt4ghIo.WriteKeyFile(path, key.ToPem(),
                    UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, parse.GetValue(force));
            }

            streams.Hint($"Project {ProblemText.OneLine(projectId)} public key fingerprint (SHA-256): {key.Fingerprint}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
