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
        return new Command("dataset", "The files uploaded to a project's datasets: list them, delete one you hold. Metadata only: the API never gives out project data; results leave only through the airlock ('spe export').")
        {
            List(env),
            Remove(env),
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

    private static Command Remove(ClientEnvironment env)
    {
        var project = new Argument<string>("project") { Description = "The project's id (see 'spe project list')." };
        var dataset = new Argument<string>("dataset") { Description = "The dataset the file belongs to." };
        var file = new Argument<string>("file") { Description = "The file's id or its name in the dataset (see 'spe dataset list')." };
        var json = CommonOptions.Json();
        var command = new Command("rm", "Delete a verified file from a dataset you hold, with its stored encrypted object (audited). "
            + "To replace a file, delete it and upload the new one: a second upload of a name the dataset holds is refused.")
        {
            project, dataset, file, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var (projectId, datasetId, wanted) = (parse.GetValue(project)!.Trim(), parse.GetValue(dataset)!.Trim(), parse.GetValue(file)!.Trim());
            using var api = SpeApiClient.Open(env);
            var (_, files) = await api.CallAsync<List<ProjectFileView>>(HttpMethod.Get, $"api/v1/projects/{Segment(projectId)}/files", null, cancellationToken);
            var inDataset = files.Where(f => f.Dataset == datasetId).ToList();
            var matches = inDataset.Where(f => f.Id == wanted).ToList() is { Count: > 0 } byId ? byId : inDataset.Where(f => f.Filename == wanted).ToList();
            var target = matches.Count switch
            {
                0 => throw new SpeClientException(ProblemText.OneLine($"dataset {datasetId} of project {projectId} holds no file '{wanted}' that you can see (see 'spe dataset list --project {projectId}')")),
                1 => matches[0],
                _ => throw new SpeUsageException(ProblemText.OneLine($"dataset {datasetId} holds {matches.Count} files named '{wanted}': give the id of the one to delete ({string.Join(", ", matches.Select(m => m.Id))})")),
            };

            await api.SendOptionalAsync(HttpMethod.Delete, $"api/v1/projects/{Segment(projectId)}/datasets/{Segment(datasetId)}/files/{Segment(target.Id)}", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, new { id = target.Id, dataset = target.Dataset, filename = target.Filename, status = "deleted" });
            }
            else
            {
                streams.Out.WriteLine(ProblemText.OneLine($"Deleted {target.Filename} ({target.Id}) from dataset {target.Dataset}."));
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
