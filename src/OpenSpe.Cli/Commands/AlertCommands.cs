using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe alert list|rules|ack|incident</c> (EHDSR-9, TIR-13, OPR-18): the fired alerts over <c>/api/v1/alerts</c> and the
/// rules in force over <c>/api/v1/alerts/rules</c>. Operators acknowledge and open incidents; auditors read.
/// </summary>
internal static class AlertCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("alert", "Alerts the SPE raised (rules over the audit log, periodic checks, incident deadlines). Role operator acknowledges; auditor reads.");
        command.Subcommands.Add(List(env));
        command.Subcommands.Add(Rules(env));
        command.Subcommands.Add(Ack(env));
        command.Subcommands.Add(Incident(env));
        return command;
    }

    private static Command List(ClientEnvironment env)
    {
        var open = new Option<bool>("--open") { Description = "Only alerts not yet acknowledged." };
        var limit = new Option<int?>("--limit") { Description = "How many alerts, 1 to 500 (the server's default: 100).", HelpName = "n" };
        var before = new Option<string?>("--before")
        {
            Description = "Continue after this alert id: the 'next page' id the previous listing printed (its nextBefore).",
            HelpName = "alert-id",
        };
        var json = CommonOptions.Json();
        var command = new Command("list", "Fired alerts, newest first, one page at a time.") { open, limit, before, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var query = new List<string>();
            if (parse.GetValue(open))
            {
                query.Add("state=open");
            }

            // Note: the values are passed on as given; the server checks them and answers a 400 naming the field.
            if (parse.GetValue(limit) is { } n)
            {
                query.Add("limit=" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (parse.GetValue(before) is { } cursor)
            {
                query.Add("before=" + Uri.EscapeDataString(cursor));
            }

            var path = query.Count == 0 ? "api/v1/alerts" : "api/v1/alerts?" + string.Join('&', query);
            var (raw, page) = await api.CallAsync<AlertPage>(HttpMethod.Get, path, null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.Write(streams.Out, ["ID", "FIRED", "RULE", "KEY", "VALUE", "STATE", "INCIDENT"],
                page.Items.Select(a => (IReadOnlyList<string?>)[a.Id, Time(a.FiredAt), a.Rule, a.Key, a.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    a.State == "acknowledged" ? $"acknowledged by {a.AcknowledgedBy}" : a.State, a.IncidentId ?? "-"]), "No alerts.");
            if (page.NextBefore is { } next)
            {
                streams.Out.WriteLine($"More alerts: spe alert list --before {next}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Rules(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("rules", "The alert rules in force: the shipped defaults not switched off and the operator's own (Alerts:Rules). "
            + "Roles operator and auditor.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, rules) = await api.CallAsync<List<AlertRuleView>>(HttpMethod.Get, "api/v1/alerts/rules", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            // Note: a rule counts audit records (its action and outcome) or is a periodic check; the WHAT column says which.
            TableWriter.Write(streams.Out, ["RULE", "WHAT", "PER", "THRESHOLD", "WINDOW"],
                rules.Select(r => (IReadOnlyList<string?>)[r.Name, r.Check is { } check ? "check " + check : r.Action + (r.Outcome is { } outcome ? " " + outcome : ""),
                    r.GroupBy, r.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture), Window(r.Window)]), "No alert rules in force.");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>A window as a person reads it: whole days, hours, minutes or seconds when it is one, else the exact span.</summary>
    internal static string Window(TimeSpan window) => window switch
    {
        { Ticks: > 0 } when window.Ticks % TimeSpan.TicksPerDay == 0 => $"{window.Ticks / TimeSpan.TicksPerDay} d",
        { Ticks: > 0 } when window.Ticks % TimeSpan.TicksPerHour == 0 => $"{window.Ticks / TimeSpan.TicksPerHour} h",
        { Ticks: > 0 } when window.Ticks % TimeSpan.TicksPerMinute == 0 => $"{window.Ticks / TimeSpan.TicksPerMinute} min",
        { Ticks: > 0 } when window.Ticks % TimeSpan.TicksPerSecond == 0 => $"{window.Ticks / TimeSpan.TicksPerSecond} s",
        _ => window.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };

    private static Command Ack(ClientEnvironment env)
    {
        var id = IdArgument();
        var note = new Option<string>("--note") { Description = "What you saw and did.", Required = true, HelpName = "text" };
        var json = CommonOptions.Json();
        var command = new Command("ack", "Acknowledge an alert with a note (role operator); audited.") { id, note, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, alert) = await api.CallAsync<AlertView>(HttpMethod.Post, $"api/v1/alerts/{Uri.EscapeDataString(parse.GetValue(id)!)}/acknowledge",
                new AlertAcknowledgeRequest(NotBlank(parse.GetValue(note), "--note")), cancellationToken);
            Write(streams, parse.GetValue(json), raw, alert);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Incident(ClientEnvironment env)
    {
        var id = IdArgument();
        var severity = new Option<string>("--severity") { Description = "low, medium, high or critical.", Required = true };
        severity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var title = new Option<string?>("--title") { Description = "A short title (default: the rule and key).", HelpName = "text" };
        var json = CommonOptions.Json();
        var command = new Command("incident", "Open an incident from an alert in one step (role operator): detected when the alert fired, naming its project.") { id, severity, title, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, alert) = await api.CallAsync<AlertView>(HttpMethod.Post, $"api/v1/alerts/{Uri.EscapeDataString(parse.GetValue(id)!)}/incident",
                new AlertIncidentRequest(parse.GetValue(severity)!, parse.GetValue(title)), cancellationToken);
            Write(streams, parse.GetValue(json), raw, alert);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The alert id (alt-...)." };

    private static void Write(ClientCommand.Streams streams, bool json, System.Text.Json.JsonElement raw, AlertView alert)
    {
        if (json)
        {
            JsonOutput.Write(streams.Out, raw);
            return;
        }

        TableWriter.WriteFields(streams.Out,
        [
            ("Alert", alert.Id),
            ("Rule", alert.Rule),
            ("Key", alert.Key),
            ("Fired", Time(alert.FiredAt)),
            ("State", alert.State),
            ("Acknowledged by", alert.AcknowledgedBy ?? "-"),
            ("Note", alert.Note ?? "-"),
            ("Incident", alert.IncidentId ?? "-"),
        ]);
    }
}
