using System.CommandLine;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe export ...</c> and <c>spe import ...</c>: the airlock, the only way results leave a project and the reviewed way files
/// come in. Output checkers review; researchers download released files with their checksums verified.
/// </summary>
internal static class ExportCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("export", "Take results out of a project through the airlock: files of the workspace's /outputs are frozen, checked "
            + "automatically (statistical disclosure control, as 'spe airlock check') and released only after independent output checkers approve.")
        {
            Outputs(env),
            Request(env),
            List(env, "export"),
            Review(env, "export"),
            Download(env),
        };
    }

    public static Command CreateImport(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("import", "Bring code or reference data into a project through the airlock: checked by type, approved by an output "
            + "checker, then read-only at /project/imports/<request>/<name>.")
        {
            ImportRequest(env),
            List(env, "import"),
            Review(env, "import"),
            Place(env),
        };
    }

    private static Option<string> Project(bool required = true) =>
        new("--project") { Description = "The project's id (see 'spe project list').", Required = required, HelpName = "id" };

    private static Option<string> Reason() => new("--reason") { Description = "Why, for the output checkers (required).", Required = true, HelpName = "text" };

    private static Command Outputs(ClientEnvironment env)
    {
        var project = new Argument<string>("project") { Description = "The project's id (see 'spe project list')." };
        var json = CommonOptions.Json();
        var verb = new Command("outputs", "List the files the project's workspaces wrote to /outputs (name, size, last change), the names 'spe export request' takes.")
        {
            project, json,
        };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, listing) = await api.CallAsync<OutputListView>(HttpMethod.Get, $"api/v1/projects/{Segment(parse.GetValue(project)!.Trim())}/outputs", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.Write(streams.Out, ["NAME", "SIZE", "MODIFIED"],
                listing.Files.Select(f => (IReadOnlyList<string?>)[f.Name, f.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), Time(f.Modified)]),
                "No files in /outputs.");
            if (listing.Truncated)
            {
                streams.Out.WriteLine($"Only the first {listing.Files.Count} files are shown (at most {listing.Limit}, never deeper than an export name may be): more exist.");
            }

            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command Request(ClientEnvironment env)
    {
        var project = Project();
        var reason = Reason();
        var meta = new Option<FileInfo?>("--meta") { Description = "The output description (JSON, docs/disclosure.md; 'spe airlock describe' writes a start). Without it every file needs a person's review.", HelpName = "description.json" };
        var json = CommonOptions.Json();
        var files = new Argument<string[]>("file") { Description = "Names of files in the workspace's /outputs.", Arity = ArgumentArity.OneOrMore };
        var verb = new Command("request", "Ask to export files of /outputs; prints the request with each file's SHA-256 and automatic check result.") { project, reason, meta, json, files };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            JsonElement? description = null;
            if (parse.GetValue(meta) is { } path)
            {
                try
                {
                    using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path.FullName, cancellationToken));
                    description = document.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    throw new SpeUsageException($"{path.Name} is not JSON: {e.Message}");
                }
            }

            using var api = SpeApiClient.Open(env);
            var body = new ExportCreateRequest(parse.GetValue(files)!, parse.GetValue(reason)!, description);
            var (raw, view) = await api.CallAsync<AirlockRequestView>(HttpMethod.Post, $"api/v1/projects/{Segment(parse.GetValue(project)!.Trim())}/exports", body, cancellationToken);
            Print(streams, raw, view, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command ImportRequest(ClientEnvironment env)
    {
        var project = Project();
        var reason = Reason();
        var json = CommonOptions.Json();
        var files = new Argument<FileInfo[]>("file") { Description = "Local files to bring in.", Arity = ArgumentArity.OneOrMore };
        var verb = new Command("request", "Ask to bring local files into the project; prints the request with each file's SHA-256.") { project, reason, json, files };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var local = parse.GetValue(files)!;
            foreach (var file in local.Where(f => !f.Exists))
            {
                throw new SpeUsageException($"{file.FullName} does not exist");
            }

            using var api = SpeApiClient.Open(env);
            Func<HttpContent> content = () =>
            {
                var form = new MultipartFormDataContent { { new StringContent(parse.GetValue(reason)!), "reason" } };
                foreach (var file in local)
                {
                    var part = new StreamContent(file.OpenRead());
                    part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    form.Add(part, "files", file.Name);
                }

                return form;
            };
            var (raw, view) = await api.CallAsync<AirlockRequestView>(HttpMethod.Post, $"api/v1/projects/{Segment(parse.GetValue(project)!.Trim())}/imports", content, cancellationToken);
            Print(streams, raw, view, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command List(ClientEnvironment env, string direction)
    {
        var project = Project(required: direction == "import");
        var json = CommonOptions.Json();
        var verb = new Command("list", direction == "export"
            ? "List export requests: of one project (--project), or, for HDAB officers and output checkers, of every project."
            : "List the project's import requests.") { project, json };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var projectId = parse.GetValue(project)?.Trim();
            var path = projectId is null ? "api/v1/exports" : $"api/v1/projects/{Segment(projectId)}/{direction}s";
            var (raw, requests) = await api.CallAsync<List<AirlockRequestView>>(HttpMethod.Get, path, null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.Write(streams.Out, ["ID", "PROJECT", "STATE", "CHECK", "FILES", "BY", "CREATED"],
                    requests.Select(r => (IReadOnlyList<string?>)[r.Id, r.ProjectId, r.State, r.CheckStatus,
                        string.Join(", ", r.Files.Select(f => $"{f.Name} ({f.State})")), r.RequestedBy, Time(r.CreatedAt)]),
                    $"No {direction} requests.");
            }

            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command Review(ClientEnvironment env, string direction)
    {
        var project = Project(required: false);
        var request = new Argument<string>("request") { Description = "The request's id." };
        var file = new Option<string?>("--file") { Description = "Decide on this file only (default: every pending file).", HelpName = "name" };
        var approve = new Option<bool>("--approve") { Description = "Approve." };
        var reject = new Option<bool>("--reject") { Description = "Reject: the file never leaves (or enters)." };
        var changes = new Option<bool>("--changes") { Description = "Send the request back to the requester for changes." };
        var comment = new Option<string>("--comment") { Description = "Why (required; the requester and the audit trail see it).", Required = true, HelpName = "text" };
        var overrideReason = new Option<string?>("--override") { Description = "Approve a file whose automatic check failed, and say why it may leave anyway.", HelpName = "text" };
        var json = CommonOptions.Json();
        var verb = new Command("review", $"Decide on an {direction} request as an output checker (never one of the project's members, never the requester).")
        {
            project, request, file, approve, reject, changes, comment, overrideReason, json,
        };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var chosen = new[] { (parse.GetValue(approve), "approve"), (parse.GetValue(reject), "reject"), (parse.GetValue(changes), "changes") }.Where(c => c.Item1).ToList();
            if (chosen.Count != 1)
            {
                throw new SpeUsageException("give exactly one of --approve, --reject, --changes");
            }

            using var api = SpeApiClient.Open(env);
            var id = parse.GetValue(request)!.Trim();
            var projectId = parse.GetValue(project)?.Trim() ?? await FindProjectAsync(api, direction, id, cancellationToken);
            var body = new AirlockReviewRequest(chosen[0].Item2, parse.GetValue(comment)!, parse.GetValue(file), parse.GetValue(overrideReason));
            var (raw, view) = await api.CallAsync<AirlockRequestView>(HttpMethod.Post, $"api/v1/projects/{Segment(projectId)}/{direction}s/{Segment(id)}/reviews", body, cancellationToken);
            Print(streams, raw, view, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command Place(ClientEnvironment env)
    {
        var project = Project(required: false);
        var request = new Argument<string>("request") { Description = "The import request's id." };
        var json = CommonOptions.Json();
        var verb = new Command("place", "Place again the approved files of an import request that could not be placed (the PLACEMENT column says why), "
            + "once the cause is gone: the same reviewed bytes, checked against the same SHA-256.")
        {
            project, request, json,
        };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var id = parse.GetValue(request)!.Trim();
            var projectId = parse.GetValue(project)?.Trim() ?? await FindProjectAsync(api, "import", id, cancellationToken);
            var (raw, view) = await api.CallAsync<AirlockRequestView>(HttpMethod.Post, $"api/v1/projects/{Segment(projectId)}/imports/{Segment(id)}/placement", null, cancellationToken);
            Print(streams, raw, view, parse.GetValue(json));
            // Note: the call succeeds when it tried; a file still not placed is a failure of what was asked.
            return view.Files.Any(f => f.Placement == AirlockPlacements.Failed) ? ExitCodes.Failure : ExitCodes.Success;
        }));
        return verb;
    }

    private static Command Download(ClientEnvironment env)
    {
        var project = Project(required: false);
        var request = new Argument<string>("request") { Description = "The export request's id." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Directory to write the files to (default: the current directory).", HelpName = "dir" };
        var verb = new Command("download", "Download the released files of an export request, each checked against the SHA-256 frozen at submission.") { project, request, output };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var id = parse.GetValue(request)!.Trim();
            var projectId = parse.GetValue(project)?.Trim() ?? await FindProjectAsync(api, "export", id, cancellationToken);
            var view = await api.GetAsync<AirlockRequestView>($"api/v1/projects/{Segment(projectId)}/exports/{Segment(id)}", cancellationToken);
            var directory = parse.GetValue(output)?.FullName ?? Directory.GetCurrentDirectory();
            Directory.CreateDirectory(directory);
            var released = view.Files.Where(f => f.State == AirlockStates.Approved).ToList();
            if (released.Count == 0)
            {
                throw new SpeClientException($"no file of {id} is released yet ({string.Join(", ", view.Files.Select(f => $"{f.Name}: {f.State}"))})");
            }

            foreach (var file in released)
            {
                var target = Path.Combine(directory, Path.GetFileName(file.Name));
                using var response = await api.GetStreamingAsync($"api/v1/projects/{Segment(projectId)}/exports/{Segment(id)}/files/{Segment(file.Name)}", cancellationToken);
                var header = response.Headers.TryGetValues(AirlockProtocol.Sha256Header, out var values) ? values.FirstOrDefault() : null;
                var partial = target + ".part";
                string actual;
                await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
                await using (var sink = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
                using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    var buffer = new byte[1 << 16];
                    int read;
                    while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        sha.AppendData(buffer, 0, read);
                        await sink.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }

                    actual = Convert.ToHexStringLower(sha.GetHashAndReset());
                }

                // Note: both the header and the listing must name the bytes received, so a file is kept only when it is what was approved.
                if (actual != file.Sha256 || (header is not null && header != file.Sha256))
                {
                    File.Delete(partial);
                    throw new SpeClientException($"{file.Name}: the bytes received have SHA-256 {actual}, not the approved {file.Sha256}; nothing was kept");
                }

                File.Move(partial, target, overwrite: true);
                streams.Out.WriteLine($"{file.Sha256}  {target}");
            }

            return ExitCodes.Success;
        }));
        return verb;
    }

    private static async Task<string> FindProjectAsync(SpeApiClient api, string direction, string requestId, CancellationToken cancellationToken)
    {
        if (direction == "export")
        {
            var all = await TryGetAsync(api, "api/v1/exports", cancellationToken);
            if (all is { ValueKind: JsonValueKind.Array } list && list.EnumerateArray().FirstOrDefault(r => r.GetProperty("id").GetString() == requestId) is { ValueKind: JsonValueKind.Object } found)
            {
                return found.GetProperty("projectId").GetString()!;
            }
        }

        foreach (var project in await api.GetAsync<List<JsonElement>>("api/v1/projects", cancellationToken))
        {
            var id = project.GetProperty("id").GetString()!;
            var requests = await TryGetAsync(api, $"api/v1/projects/{Segment(id)}/{direction}s", cancellationToken);
            if (requests is { ValueKind: JsonValueKind.Array } list && list.EnumerateArray().Any(r => r.GetProperty("id").GetString() == requestId))
            {
                return id;
            }
        }

        throw new SpeUsageException($"no {direction} request {requestId} is visible to you; give --project");
    }

    /// <summary>The JSON at <paramref name="path"/>, or null when the server refuses it (a list the caller may not see).</summary>
    private static async Task<JsonElement?> TryGetAsync(SpeApiClient api, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await api.SendOptionalAsync(HttpMethod.Get, path, null, cancellationToken);
        }
        catch (SpeClientException)
        {
            return null;
        }
    }

    private static void Print(ClientCommand.Streams streams, JsonElement raw, AirlockRequestView view, bool json)
    {
        if (json)
        {
            JsonOutput.Write(streams.Out, raw);
            return;
        }

        streams.Out.WriteLine($"{view.Direction} request {view.Id} ({view.ProjectId}): {view.State}, automatic check {view.CheckStatus}, {view.ReviewersRequired} approval(s) needed per file");
        var import = view.Direction == "import";
        TableWriter.Write(streams.Out, import ? ["FILE", "SIZE", "SHA-256", "CHECK", "STATE", "APPROVALS", "PLACEMENT"] : ["FILE", "SIZE", "SHA-256", "CHECK", "STATE", "APPROVALS"],
            view.Files.Select(f =>
            {
                IReadOnlyList<string?> row = [f.Name, f.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), f.Sha256, f.CheckStatus, f.State,
                    f.Approvals.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                return import ? [.. row, f.Placement ?? "-"] : row;
            }),
            "No files.");
        foreach (var finding in view.Files.SelectMany(f => f.Findings.EnumerateArray().Select(x => (f.Name, x))))
        {
            streams.Out.WriteLine($"  {finding.Name}: {finding.x.GetProperty("rule").GetString()}: {finding.x.GetProperty("reason").GetString()}");
        }

        foreach (var file in view.Files.Where(f => f.Placement == AirlockPlacements.Failed))
        {
            streams.Out.WriteLine($"  {file.Name}: not placed: {file.PlacementProblem} ('spe import place {view.Id}' asks again)");
        }
    }
}
