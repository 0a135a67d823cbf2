using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe permit ...</c>: data permits (issued by <c>hdab</c>), their versions, lifecycle, signed document and visas.</summary>
internal static partial class PermitCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("permit", "Issue and manage data permits (role hdab): create, amend, suspend, resume, revoke; list and show them; "
            + "print the signed permit document and its GA4GH visas. The file format is in docs/permit-format.md.")
        {
            CreatePermit(env),
            List(env),
            Show(env),
            Amend(env),
            Transition(env, "suspend", "Suspend a permit: its project refuses every request until 'spe permit resume'. The reason is required and audited.", reasonRequired: true),
            Transition(env, "resume", "Resume a suspended permit: its project is usable again (within the permit's validity period).", reasonRequired: false),
            Transition(env, "revoke", "Revoke a permit, at once and for good: the project is terminated, every request to it refused and its unfinished uploads removed; "
                + "its data is erased after the grace period. The reason is required and audited.", reasonRequired: true),
            Document(env),
            Versions(env),
            Import(env),
        };
    }

    private static Command Import(ClientEnvironment env)
    {
        var file = new Option<string>("--file", "-f")
        {
            Description = "The permit as another SPE's HDAB signed it: the compact JWS that 'spe permit document' prints there ('-' reads standard input).",
            Required = true,
            HelpName = "file",
        };
        var json = new Option<bool>("--json") { Description = "Print the whole new local permit as JSON instead of only its id." };
        var command = new Command("import", "Import a permit signed by a trusted HDAB (Federation:TrustedPermitIssuers) at this federation node (role hdab or operator): "
            + "creates the local permit and project for the datasets this node holds (datasets[].node), so its data holders upload as usual. Prints the local permit's id.")
        {
            file, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var path = parse.GetValue(file)!;
            var document = (path == "-" ? string.Join('\n', ReadLines(env.Input)) : await File.ReadAllTextAsync(path, cancellationToken)).Trim();
            using var api = SpeApiClient.Open(env);
            var (raw, permit) = await api.CallAsync<PermitView>(HttpMethod.Post, "api/v1/permits/import", new PermitImportRequest(document), cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                await streams.Out.WriteLineAsync(ProblemText.OneLine(permit.Id));
                streams.Hint(ProblemText.OneLine($"Permit {permit.Reference} imported, project {permit.ProjectId ?? "-"}; its holders upload with 'spe upload'."));
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static IEnumerable<string> ReadLines(IUserInput input)
    {
        while (input.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static Command CreatePermit(ClientEnvironment env)
    {
        var file = FileOption();
        var json = new Option<bool>("--json") { Description = "Print the whole new permit (with its id and projectId) as JSON instead of only its id." };
        var command = new Command("create", "Issue a permit from a permit file and create its project. Prints the new permit's id.") { file, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var document = ReadPermitFile(parse.GetValue(file)!, env.Input);
            using var api = SpeApiClient.Open(env);
            var (raw, permit) = await api.CallAsync<PermitView>(HttpMethod.Post, "api/v1/permits", document, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                await streams.Out.WriteLineAsync(ProblemText.OneLine(permit.Id));
                streams.Hint(ProblemText.OneLine($"Permit {permit.Reference} created, version {permit.Version}, project {permit.ProjectId ?? "-"}; see it with 'spe permit show {permit.Id}'."));
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List the permits you may see, with their state, version and validity period.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, permits) = await api.CallAsync<List<PermitSummary>>(HttpMethod.Get, "api/v1/permits", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.Write(streams.Out, ["ID", "REFERENCE", "TITLE", "STATE", "VERSION", "VALID FROM", "VALID UNTIL", "PROJECT"],
                    permits.Select(p => (IReadOnlyList<string?>)[p.Id, p.Reference, p.Title, p.State, Number(p.Version), Time(p.ValidFrom), Time(p.ValidUntil), p.ProjectId]), "No permits.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Show(ClientEnvironment env)
    {
        var id = PermitId();
        var json = CommonOptions.Json();
        var command = new Command("show", "Show a permit's current version: its fields and policies, then its datasets, data users and approved components.") { id, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, permit) = await api.CallAsync<PermitView>(HttpMethod.Get, $"api/v1/permits/{Segment(parse.GetValue(id)!)}", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                WritePermit(streams.Out, permit);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Amend(ClientEnvironment env)
    {
        var id = PermitId();
        var file = FileOption();
        var json = new Option<bool>("--json") { Description = "Print the whole amended permit as JSON instead of a summary." };
        var command = new Command("amend", "Amend a permit: the file is the complete new permit document (same reference), e.g. with a person added or removed, "
            + "the period extended or a policy changed. It becomes a new version; earlier versions are kept ('spe permit versions'). "
            + "A person removed loses access at once.")
        {
            id, file, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var document = ReadPermitFile(parse.GetValue(file)!, env.Input);
            using var api = SpeApiClient.Open(env);
            var (raw, permit) = await api.CallAsync<PermitView>(HttpMethod.Post, $"api/v1/permits/{Segment(parse.GetValue(id)!)}/amendments", document, cancellationToken);
            WriteSummary(streams.Out, raw, permit, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary><c>suspend</c>, <c>resume</c> and <c>revoke</c>: a POST with a reason that answers with the permit.</summary>
    private static Command Transition(ClientEnvironment env, string verb, string description, bool reasonRequired)
    {
        var id = PermitId();
        var reason = new Option<string?>("--reason")
        {
            Description = reasonRequired ? "Why (required; kept in the audit log)." : "Why (optional; kept in the audit log).",
            Required = reasonRequired,
            HelpName = "text",
        };
        var json = CommonOptions.Json();
        var command = new Command(verb, description) { id, reason, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var given = parse.GetValue(reason);
            object body = reasonRequired || given is not null ? new PermitReasonRequest(NotBlank(given, "--reason")) : new { };
            using var api = SpeApiClient.Open(env);
            var (raw, permit) = await api.CallAsync<PermitView>(HttpMethod.Post, $"api/v1/permits/{Segment(parse.GetValue(id)!)}/{verb}", body, cancellationToken);
            WriteSummary(streams.Out, raw, permit, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Document(ClientEnvironment env)
    {
        var id = PermitId();
        var visas = new Option<bool>("--visas")
        {
            Description = "Print the permit's GA4GH Passport visas instead (type ControlledAccessGrants): one signed JWT per data user and dataset.",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON: the visas as a list, or the document as {\"id\", \"document\"}." };
        var command = new Command("document", "Print the permit's current version as a compact JWS (ES256, signed by this SPE's permit-signing key; "
            + "the public key is at /.well-known/spe-keys.json), for a federation peer or an auditor to verify offline.")
        {
            id, visas, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var permitId = parse.GetValue(id)!;
            using var api = SpeApiClient.Open(env);
            if (parse.GetValue(visas))
            {
                var (raw, list) = await api.CallAsync<List<PermitVisaView>>(HttpMethod.Get, $"api/v1/permits/{Segment(permitId)}/visas", null, cancellationToken);
                if (parse.GetValue(json))
                {
                    JsonOutput.Write(streams.Out, raw);
                }
                else
                {
                    TableWriter.Write(streams.Out, ["USER", "DATASET", "VISA"], list.Select(v => (IReadOnlyList<string?>)[v.User, v.Dataset, v.Visa]), "No visas.");
                }

                return ExitCodes.Success;
            }

            using var response = await api.SendAsync(HttpMethod.Get, $"api/v1/permits/{Segment(permitId)}/document", null, cancellationToken);
            var jws = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            if (!CompactJws().IsMatch(jws))
            {
                throw new SpeClientException($"the server's answer to GET /api/v1/permits/{Segment(permitId)}/document is not a compact JWS");
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, new { id = permitId, document = jws });
            }
            else
            {
                await streams.Out.WriteLineAsync(jws);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Versions(ClientEnvironment env)
    {
        var id = PermitId();
        var json = CommonOptions.Json();
        var command = new Command("versions", "List a permit's versions (the original and each amendment): when, by whom, and what changed.") { id, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, versions) = await api.CallAsync<List<PermitVersionView>>(HttpMethod.Get, $"api/v1/permits/{Segment(parse.GetValue(id)!)}/versions", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.Write(streams.Out, ["VERSION", "CREATED AT", "CREATED BY", "SUMMARY"],
                    versions.Select(v => (IReadOnlyList<string?>)[Number(v.Version), Time(v.CreatedAt), v.CreatedBy, v.Summary]), "No versions.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Argument<string> PermitId() => new("id") { Description = "The permit's id, from 'spe permit list'." };

    private static Option<string> FileOption() => new("--file", "-f")
    {
        Description = "The permit document, a JSON file as described in docs/permit-format.md ('-' reads standard input). Sent as written; the server validates it.",
        Required = true,
        HelpName = "file",
    };

    private static void WriteSummary(TextWriter output, JsonElement raw, PermitView permit, bool json)
    {
        if (json)
        {
            JsonOutput.Write(output, raw);
            return;
        }

        TableWriter.WriteFields(output,
        [
            ("Id", permit.Id),
            ("Project", permit.ProjectId),
            ("Reference", permit.Reference),
            ("State", permit.State),
            ("Version", Number(permit.Version)),
            ("Valid from", Time(permit.ValidFrom)),
            ("Valid until", Time(permit.ValidUntil)),
        ]);
    }

    /// <summary>The <c>show</c> table: the permit's fields and policies, then datasets, data users and approved components.</summary>
    internal static void WritePermit(TextWriter output, PermitView permit)
    {
        var document = permit.Document;
        var policies = Property(document, "policies");
        var airlock = Property(policies, "airlock");
        var budget = Property(policies, "privacyBudget");
        var fileTypes = Property(policies, "fileTypes");
        TableWriter.WriteFields(output,
        [
            ("Id", permit.Id),
            ("Project", permit.ProjectId),
            ("Reference", permit.Reference ?? Text(Property(document, "reference"))),
            ("Title", permit.Title ?? Text(Property(document, "title"))),
            ("State", permit.State),
            ("Version", Number(permit.Version)),
            ("Purpose", Text(Property(document, "purpose"))),
            ("Legal basis", Text(Property(document, "legalBasis"))),
            ("Valid from", Time(permit.ValidFrom) ?? Text(Property(document, "validFrom"))),
            ("Valid until", Time(permit.ValidUntil) ?? Text(Property(document, "validUntil"))),
            ("Created at", Time(permit.CreatedAt)),
            ("Created by", permit.CreatedBy),
            ("Workspace kinds", Text(Property(policies, "workspaceKinds"), "job")),
            ("Idle timeout (min)", Text(Property(policies, "idleTimeoutMinutes"), "15")),
            ("Clipboard", Text(Property(policies, "clipboard"), "none")),
            ("Upload types", Text(Property(fileTypes, "upload"), "none")),
            ("Import types", Text(Property(fileTypes, "import"), "none")),
            ("Export types", Text(Property(fileTypes, "export"), "none")),
            ("Airlock reviewers", Text(Property(airlock, "reviewersRequired"), "2")),
            ("Airlock threshold", Text(Property(airlock, "threshold"), "10")),
            ("Dominance n, k", $"{Text(Property(airlock, "dominanceN"), "2")}, {Text(Property(airlock, "dominanceK"), "0.9")}"),
            ("p% rule", Text(Property(airlock, "pPercent"), "0.1")),
            ("k-anonymity", Text(Property(airlock, "kAnonymity"), "10")),
            ("Privacy epsilon", Text(Property(budget, "epsilon"), "3.0")),
            ("Privacy delta", Text(Property(budget, "delta"), "1e-6")),
        ]);

        output.WriteLine();
        TableWriter.Write(output, ["DATASET", "TITLE", "HOLDER", "DESCRIPTION"],
            Items(Property(document, "datasets")).Select(d => (IReadOnlyList<string?>)[Text(Property(d, "id")), Text(Property(d, "title")), Text(Property(d, "holder")), Text(Property(d, "description"))]), "No datasets.");

        output.WriteLine();
        TableWriter.Write(output, ["DATA USER", "ISSUER", "SUBJECT", "NAME"],
            Items(Property(document, "dataUsers")).Select(u => (IReadOnlyList<string?>)[Text(Property(u, "account")), Text(Property(u, "issuer")), Text(Property(u, "subject")), Text(Property(u, "name"))]), "No data users.");

        var components = Items(Property(policies, "approvedComponents"));
        if (components.Count > 0)
        {
            output.WriteLine();
            TableWriter.Write(output, ["APPROVED COMPONENT", "VERSION", "SHA-256"],
                components.Select(c => (IReadOnlyList<string?>)[Text(Property(c, "name")), Text(Property(c, "version")), Text(Property(c, "sha256"))]), "No approved components.");
        }
    }

    private static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    private static List<JsonElement> Items(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? [.. element.EnumerateArray()] : [];

    /// <summary>A cell: strings as they are, numbers as the server wrote them, lists joined; absent values show the server's default.</summary>
    private static string Text(JsonElement element, string? defaultValue = null) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Array => element.GetArrayLength() == 0 ? "none" : string.Join(", ", element.EnumerateArray().Select(e => Text(e))),
        JsonValueKind.Object => element.GetRawText(),
        _ => defaultValue is null ? "-" : $"{defaultValue} (default)",
    };

    private static string? Number(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // header.payload.signature, each base64url without padding.
    [GeneratedRegex("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")]
    private static partial Regex CompactJws();
}
