using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using OpenSpe.Cli.Transfers;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe dataset ...</c>: the verified files uploaded to a project's datasets (metadata only; no verb downloads data).</summary>
internal static class DatasetCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("dataset", "The files uploaded to a project's datasets. Metadata only: the API never gives out project data (the airlock, the only way out, is planned).")
        {
            List(env),
        };
    }

    private static Command List(ClientEnvironment env)
    {
        var project = new Option<string>("--project") { Description = "The project's id (see 'spe project list').", Required = true, HelpName = "id" };
        var dataset = new Option<string?>("--dataset") { Description = "Show only the files of this dataset.", HelpName = "id" };
        var json = new Option<bool>("--json") { Description = "Print the server's list as JSON (with file ids, encrypted sizes and both SHA-256s) instead of a table." };
        var command = new Command("list", "List the verified files of a project's datasets: name, dataset, plaintext size, plaintext SHA-256 "
            + "(compare it with 'sha256sum' of your original), who uploaded it and when. Data holders see the datasets they hold; researchers all of the project's.")
        {
            project, dataset, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, files) = await api.CallAsync<List<ProjectFileView>>(HttpMethod.Get, $"api/v1/projects/{Segment(parse.GetValue(project)!.Trim())}/files", null, cancellationToken);
            var only = parse.GetValue(dataset)?.Trim();
            if (parse.GetValue(json))
            {
                // The server's entries as they are (no field lost), filtered by dataset if asked.
                JsonOutput.Write(streams.Out, only is null ? raw.EnumerateArray().ToList()
                    : raw.EnumerateArray().Where(e => e.TryGetProperty("dataset", out var d) && d.ValueKind == System.Text.Json.JsonValueKind.String && d.GetString() == only).ToList());
            }
            else
            {
                TableWriter.Write(streams.Out, ["NAME", "DATASET", "SIZE", "PLAINTEXT-SHA256", "UPLOADED-BY", "WHEN"],
                    files.Where(f => only is null || f.Dataset == only)
                        .Select(f => (IReadOnlyList<string?>)[f.Filename, f.Dataset, f.PlaintextSize is { } p ? TransferProgress.Bytes(p) : "-", f.PlaintextSha256, f.UploadedBy, Time(f.UploadedAt)]),
                    only is null ? "No verified files in this project that you can see." : ProblemText.OneLine($"No verified files in dataset {only} that you can see."));
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
