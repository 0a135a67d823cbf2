using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe halt</c> and <c>spe resume</c>: the emergency stop of one project or of everything (roles operator and hdab), lifted by a second person.</summary>
internal static class HaltCommands
{
    public static Command Halt(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var project = new Option<string?>("--project") { Description = "Halt this project (its id, from 'spe project list').", HelpName = "id" };
        var all = new Option<bool>("--all") { Description = "Halt every project." };
        var reason = new Option<string?>("--reason") { Description = "Why (required to halt; kept in the audit log and raised as a security event).", HelpName = "text" };
        var list = new Option<bool>("--list") { Description = "Show the active halts instead of halting." };
        var json = CommonOptions.Json();
        var command = new Command("halt", "Emergency halt (roles operator, hdab): within a second every request to the project (--project ID) or to all projects (--all) "
            + "answers 423 Locked, requests in flight are cancelled, unfinished uploads refused, and the project's jobs, desktops and terminals stopped. Give exactly one of --project and --all, and --reason. "
            + "Lifting it ('spe resume') needs a different person, or hdab.")
        {
            project, all, reason, list, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var projectId = parse.GetValue(project);
            if (parse.GetValue(list))
            {
                if (projectId is not null || parse.GetValue(all) || parse.GetValue(reason) is not null)
                {
                    throw new SpeUsageException("--list takes no --project, --all or --reason");
                }

                using var lister = SpeApiClient.Open(env);
                var (rawList, halts) = await lister.CallAsync<List<HaltView>>(HttpMethod.Get, "api/v1/halts", null, cancellationToken);
                if (parse.GetValue(json))
                {
                    JsonOutput.Write(streams.Out, rawList);
                }
                else
                {
                    TableWriter.Write(streams.Out, ["ID", "SCOPE", "PROJECT", "REASON", "HALTED BY", "HALTED AT"],
                        halts.Select(h => (IReadOnlyList<string?>)[h.Id, h.Scope, h.ProjectId ?? "-", h.Reason, h.HaltedBy, Time(h.HaltedAt)]), "No active halts.");
                }

                return ExitCodes.Success;
            }

            var scope = Scope(projectId, parse.GetValue(all));
            var why = NotBlank(parse.GetValue(reason) ?? throw new SpeUsageException("--reason is required"), "--reason");
            using var api = SpeApiClient.Open(env);
            var (raw, halt) = await api.CallAsync<HaltView>(HttpMethod.Post, "api/v1/halts", new HaltRequest(scope, why), cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.WriteFields(streams.Out,
                [
                    ("Halt", halt.Id),
                    ("Scope", halt.Scope),
                    ("Project", halt.ProjectId),
                    ("Reason", halt.Reason),
                    ("Halted by", halt.HaltedBy),
                    ("Halted at", Time(halt.HaltedAt)),
                ]);
                streams.Hint(ProblemText.OneLine($"Halted. To lift it, another operator or hdab runs: spe resume {(scope is null ? "--all" : "--project " + scope)}"));
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Resume(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var project = new Option<string?>("--project") { Description = "Lift the halt of this project.", HelpName = "id" };
        var all = new Option<bool>("--all") { Description = "Lift the halt of everything." };
        var json = CommonOptions.Json();
        var command = new Command("resume", "Lift an emergency halt (roles operator, hdab). Give exactly one of --project and --all. "
            + "Two-person rule: whoever halted cannot lift it, unless they are hdab. Prints the ids of the halts lifted.")
        {
            project, all, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var scope = Scope(parse.GetValue(project), parse.GetValue(all));
            using var api = SpeApiClient.Open(env);
            var (raw, result) = await api.CallAsync<ResumeView>(HttpMethod.Post, "api/v1/halts/resume", new ResumeRequest(scope), cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                var resumed = result.Resumed ?? [];
                TableWriter.Write(streams.Out, ["RESUMED HALT"], resumed.Select(id => (IReadOnlyList<string?>)[id]),
                    scope is null ? "No active halt of everything to lift." : ProblemText.OneLine($"No active halt of project {scope} to lift."));
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The project id, or null for everything; exactly one of the two must be given.</summary>
    private static string? Scope(string? projectId, bool all)
    {
        if (projectId is not null && all)
        {
            throw new SpeUsageException("give --project ID or --all, not both");
        }

        if (projectId is null && !all)
        {
            throw new SpeUsageException("give --project ID or --all");
        }

        return projectId is null ? null : NotBlank(projectId, "--project");
    }
}
