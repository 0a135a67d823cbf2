using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe training record|list</c> (OPR-23): role-specific training over <c>/api/v1/training</c>. HDAB officers and admins
/// record (never their own); they and auditors list. With <c>Training:Required</c> the access chain refuses project access
/// to a person without a valid record for the role they act in.
/// </summary>
internal static class TrainingCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("training", "Role-specific training records that gate project access (OPR-23). Roles hdab and admin record; auditor reads too.");
        command.Subcommands.Add(Record(env));
        command.Subcommands.Add(List(env));
        return command;
    }

    private static Command Record(ClientEnvironment env)
    {
        var account = new Option<string>("--account") { Description = "The trained person's account name.", Required = true, HelpName = "name" };
        var role = new Option<string>("--role") { Description = "The role the training is for (e.g. researcher, data-holder, hdab, operator).", Required = true };
        var course = new Option<string>("--course") { Description = "The course's name.", Required = true, HelpName = "text" };
        var completed = new Option<string>("--completed") { Description = "The day it was completed (yyyy-MM-dd).", Required = true, HelpName = "date" };
        var expires = new Option<string?>("--expires") { Description = "The first day it no longer counts (yyyy-MM-dd); none when absent.", HelpName = "date" };
        var json = CommonOptions.Json();
        var command = new Command("record", "Record a person's completed training (roles hdab and admin; not your own).") { account, role, course, completed, expires, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var request = new TrainingRecordRequest(NotBlank(parse.GetValue(account), "--account"), NotBlank(parse.GetValue(role), "--role"), NotBlank(parse.GetValue(course), "--course"),
                NotBlank(parse.GetValue(completed), "--completed"), parse.GetValue(expires));
            var (raw, record) = await api.CallAsync<TrainingRecordView>(HttpMethod.Post, "api/v1/training", request, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                await streams.Out.WriteLineAsync($"Recorded training {record.Id} for {record.Account} as {record.Role}: {record.Course}, completed {record.Completed}, "
                    + (record.Expires is null ? "no expiry" : "expires " + record.Expires) + $" ({record.Status}).");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List(ClientEnvironment env)
    {
        var account = new Option<string?>("--account") { Description = "Only this account's records.", HelpName = "name" };
        var json = CommonOptions.Json();
        var command = new Command("list", "Training records with their status today (roles hdab, admin, auditor).") { account, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var path = parse.GetValue(account) is { } name ? $"api/v1/training?account={Segment(name)}" : "api/v1/training";
            var (raw, records) = await api.CallAsync<List<TrainingRecordView>>(HttpMethod.Get, path, null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.Write(streams.Out, ["ID", "ACCOUNT", "ROLE", "COURSE", "COMPLETED", "EXPIRES", "STATUS", "RECORDED BY"],
                records.Select(r => (IReadOnlyList<string?>)[r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Account, r.Role, r.Course, r.Completed, r.Expires ?? "never", r.Status, r.RecordedBy]),
                "No training records.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
