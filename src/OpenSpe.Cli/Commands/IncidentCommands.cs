using System.CommandLine;
using System.Text;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe incident open|list|show|update|notify|halt|close</c> (OPR-18, OPR-19, OPR-20): incidents on the HDAB clock, over
/// <c>/api/v1/incidents</c>. Operators record; auditors and HDAB officers read.
/// </summary>
internal static class IncidentCommands
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("incident", "Security incidents and non-compliance findings on the HDAB clock: early warning within 24 hours of detection, "
            + "detailed notification within 72 hours, final report within one month; each notification recorded with its content's SHA-256. "
            + "Role operator records; auditor and hdab read.");
        command.Subcommands.Add(Open(env));
        command.Subcommands.Add(List(env));
        command.Subcommands.Add(Show(env));
        command.Subcommands.Add(Update(env));
        command.Subcommands.Add(Notify(env));
        command.Subcommands.Add(Halt(env));
        command.Subcommands.Add(Close(env));
        return command;
    }

    private static Command Open(ClientEnvironment env)
    {
        var title = new Option<string>("--title") { Description = "A short title.", Required = true, HelpName = "text" };
        var description = new Option<string>("--description") { Description = "What happened, as known so far.", Required = true, HelpName = "text" };
        var severity = new Option<string>("--severity") { Description = "low, medium, high or critical.", Required = true };
        severity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var detected = TimeText.Option("--detected", "When the incident was detected (default now): the HDAB clock starts here.");
        var project = new Option<string[]>("--project") { Description = "An affected project (repeat for several).", HelpName = "id", AllowMultipleArgumentsPerToken = true };
        var json = CommonOptions.Json();
        var command = new Command("open", "Record an incident (role operator).") { title, description, severity, detected, project, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var request = new IncidentOpenRequest(NotBlank(parse.GetValue(title), "--title"), NotBlank(parse.GetValue(description), "--description"), parse.GetValue(severity)!,
                parse.GetValue(detected), parse.GetValue(project) ?? []);
            var (raw, incident) = await api.CallAsync<IncidentView>(HttpMethod.Post, "api/v1/incidents", request, cancellationToken);
            WriteIncident(streams, parse.GetValue(json), raw, incident);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "Incidents you may read, with the next deadline and whether any is overdue.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, incidents) = await api.CallAsync<List<IncidentView>>(HttpMethod.Get, "api/v1/incidents", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.Write(streams.Out, ["ID", "SEVERITY", "STATE", "DETECTED", "NEXT DEADLINE", "OVERDUE", "TITLE"],
                incidents.Select(i => (IReadOnlyList<string?>)[i.Id, i.Severity, i.State, Time(i.DetectedAt), NextDeadline(i), i.Overdue ? "YES" : "no", i.Title]), "No incidents.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Show(ClientEnvironment env)
    {
        var id = IdArgument();
        var json = CommonOptions.Json();
        var command = new Command("show", "An incident with its deadlines, notifications and history.") { id, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, incident) = await api.CallAsync<IncidentView>(HttpMethod.Get, $"api/v1/incidents/{Uri.EscapeDataString(parse.GetValue(id)!)}", null, cancellationToken);
            WriteIncident(streams, parse.GetValue(json), raw, incident);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Update(ClientEnvironment env)
    {
        var id = IdArgument();
        var note = new Option<string>("--note") { Description = "What changed.", Required = true, HelpName = "text" };
        var severity = new Option<string?>("--severity") { Description = "A new severity." };
        severity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var state = new Option<string?>("--state") { Description = "open or contained (close with 'spe incident close')." };
        state.AcceptOnlyFromAmong("open", "contained");
        var json = CommonOptions.Json();
        var command = new Command("update", "Add a note to an incident, optionally changing its severity or state (role operator).") { id, note, severity, state, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var request = new IncidentUpdateRequest(NotBlank(parse.GetValue(note), "--note"), parse.GetValue(severity), parse.GetValue(state));
            var (raw, incident) = await api.CallAsync<IncidentView>(HttpMethod.Post, $"api/v1/incidents/{Uri.EscapeDataString(parse.GetValue(id)!)}/updates", request, cancellationToken);
            WriteIncident(streams, parse.GetValue(json), raw, incident);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Notify(ClientEnvironment env)
    {
        var id = IdArgument();
        var stage = new Option<string>("--stage") { Description = "early-warning (24 h), detailed (72 h) or final (one month).", Required = true };
        stage.AcceptOnlyFromAmong("early-warning", "detailed", "final");
        var to = new Option<string>("--to") { Description = "Who it was sent to (an address or office).", Required = true, HelpName = "recipient" };
        var file = new Option<FileInfo>("--content-file")
        {
            Description = "The notification as sent, UTF-8 text (a byte-order mark is kept; another encoding is refused); the SHA-256 recorded with it is "
                + "the file's own ('sha256sum file').",
            Required = true,
            HelpName = "file",
        };
        var sent = TimeText.Option("--sent", "When it was sent (default now).");
        var json = CommonOptions.Json();
        var command = new Command("notify", "Record a notification sent to the HDAB (role operator).") { id, stage, to, file, sent, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var content = parse.GetValue(file)!;
            if (!content.Exists)
            {
                throw new SpeUsageException($"--content-file {content.FullName} does not exist");
            }

            var text = Utf8Content(content, await File.ReadAllBytesAsync(content.FullName, cancellationToken));
            using var api = SpeApiClient.Open(env);
            var request = new IncidentNotifyRequest(parse.GetValue(stage)!, NotBlank(parse.GetValue(to), "--to"), text, parse.GetValue(sent));
            var (raw, incident) = await api.CallAsync<IncidentView>(HttpMethod.Post, $"api/v1/incidents/{Uri.EscapeDataString(parse.GetValue(id)!)}/notifications", request, cancellationToken);
            WriteIncident(streams, parse.GetValue(json), raw, incident);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The file's text, decoded so that the server's SHA-256 of its UTF-8 bytes is the SHA-256 of the file.</summary>
    private static string Utf8Content(FileInfo file, byte[] bytes)
    {
        // Note: the bytes are decoded strictly and a byte-order mark is kept (as U+FEFF, which encodes back to EF BB BF),
        // because the server hashes the text's UTF-8 bytes and that hash must be the one of the file the HDAB received;
        // File.ReadAllText would drop the mark and read FF FE as UTF-16, recording the hash of another byte string.
        // A NUL is refused too, because UTF-16 text without a byte-order mark is valid UTF-8 full of NULs, and no text has one.
        string? text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            text = null;
        }

        return text is not null && !text.Contains('\0', StringComparison.Ordinal)
            ? text
            : throw new SpeUsageException($"--content-file {file.FullName} is not UTF-8 text; save the notification as UTF-8 and record that file");
    }

    private static Command Halt(ClientEnvironment env)
    {
        var id = IdArgument();
        var reason = new Option<string>("--reason") { Description = "Why (kept with each halt).", Required = true, HelpName = "text" };
        var json = CommonOptions.Json();
        var command = new Command("halt", "Halt every project the incident affects, in one step (role operator); lifted per project with 'spe resume'.") { id, reason, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, halted) = await api.CallAsync<IncidentHaltView>(HttpMethod.Post, $"api/v1/incidents/{Uri.EscapeDataString(parse.GetValue(id)!)}/halt",
                new IncidentHaltRequest(NotBlank(parse.GetValue(reason), "--reason")), cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.Write(streams.Out, ["HALT", "PROJECT"], halted.Halts.Zip(halted.ProjectIds, (h, p) => (IReadOnlyList<string?>)[h, p]), "Nothing halted.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Close(ClientEnvironment env)
    {
        var id = IdArgument();
        var summary = new Option<string>("--summary") { Description = "How it ended.", Required = true, HelpName = "text" };
        var json = CommonOptions.Json();
        var command = new Command("close", "Close an incident (role operator); refused until its final report was recorded.") { id, summary, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, incident) = await api.CallAsync<IncidentView>(HttpMethod.Post, $"api/v1/incidents/{Uri.EscapeDataString(parse.GetValue(id)!)}/close",
                new IncidentCloseRequest(NotBlank(parse.GetValue(summary), "--summary")), cancellationToken);
            WriteIncident(streams, parse.GetValue(json), raw, incident);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The incident id (inc-...)." };

    private static string NextDeadline(IncidentView incident) =>
        incident.State != "closed" && incident.Deadlines.FirstOrDefault(d => d.Status is "pending" or "overdue") is { } next ? $"{next.Stage} {Time(next.DueAt)}{(next.DueSoon ? " (due soon)" : "")}" : "-";

    private static void WriteIncident(ClientCommand.Streams streams, bool json, System.Text.Json.JsonElement raw, IncidentView incident)
    {
        if (json)
        {
            JsonOutput.Write(streams.Out, raw);
            return;
        }

        TableWriter.WriteFields(streams.Out,
        [
            ("Incident", incident.Id),
            ("Title", incident.Title),
            ("Severity", incident.Severity),
            ("State", incident.State),
            ("Detected", Time(incident.DetectedAt)),
            ("Opened by", incident.OpenedBy),
            ("Projects", incident.Affected.Count == 0 ? "none named" : string.Join(", ", incident.Affected.Select(a => $"{a.ProjectId} (permit {a.PermitId})"))),
            ("Overdue", incident.Overdue ? "YES" : "no"),
        ]);
        streams.Out.WriteLine();
        TableWriter.Write(streams.Out, ["STAGE", "DUE", "STATUS", "REMINDER", "SENT"],
            incident.Deadlines.Select(d => (IReadOnlyList<string?>)[d.Stage, Time(d.DueAt), d.DueSoon ? "due-soon" : d.Status, Time(d.RemindAt) ?? "-", Time(d.SentAt) ?? "-"]), "No deadlines.");
        if (incident.Notifications.Count > 0)
        {
            streams.Out.WriteLine();
            TableWriter.Write(streams.Out, ["STAGE", "TO", "SENT", "RECORDED", "CONTENT SHA-256"],
                incident.Notifications.Select(n => (IReadOnlyList<string?>)[n.Stage, n.Recipient, Time(n.SentAt), Time(n.RecordedAt) ?? "-", n.ContentSha256]), "No notifications.");
        }
    }
}
