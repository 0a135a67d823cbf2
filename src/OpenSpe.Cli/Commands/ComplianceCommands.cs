using System.CommandLine;
using System.Reflection;
using System.Text;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Compliance;
using OpenSpe.Compliance;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe compliance report [--server URL] --format html|json --out FILE</c> (OPR-6, OPR-7): every requirement of the spec with
/// its status and the tests that carry it, and with <c>--server</c> the live evidence the running SPE holds.
/// </summary>
internal static class ComplianceCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("compliance", "Compliance evidence for auditors (OPR-6, OPR-7).");
        command.Subcommands.Add(Report(env));
        return command;
    }

    private static Command Report(ClientEnvironment env)
    {
        var server = new Option<string?>("--server")
        {
            Description = "Also read the live evidence from this SPE, as the account signed in to it with 'spe login' (an auditor sees all of it).",
            HelpName = "url",
        };
        var format = new Option<string>("--format") { Description = "html (for reading) or json (for tools).", Required = true };
        format.AcceptOnlyFromAmong("html", "json");
        var output = new Option<FileInfo>("--out") { Description = "The file to write.", Required = true, HelpName = "file" };
        var command = new Command("report", "Write the compliance report: all requirement IDs of the spec with their status and tests, and with --server the live evidence.")
        {
            server, format, output,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            IReadOnlyList<EvidenceItem> evidence = [];
            string? from = null;
            if (parse.GetValue(server) is { } url)
            {
                var wanted = ServerConnection.ParseServer(url);
                using var api = SpeApiClient.Open(env);
                // Note: the evidence must come from the server the auditor named, never silently from another one they signed in to.
                if (Uri.Compare(api.Credentials.ServerUri, wanted, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
                {
                    throw new SpeClientException($"signed in to {api.Credentials.ServerUri.GetLeftPart(UriPartial.Authority)}, not {wanted.GetLeftPart(UriPartial.Authority)}: run 'spe login --server {url}' first");
                }

                evidence = await EvidenceCollector.CollectAsync(new ApiEvidenceSource(api), cancellationToken);
                from = wanted.GetLeftPart(UriPartial.Authority);
            }

            var version = typeof(ComplianceCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var report = ComplianceReport.Create(env.Time.GetUtcNow(), version, from, RequirementCatalog.Load(), evidence);
            var text = parse.GetValue(format) == "json" ? report.ToJson() : ComplianceHtml.Render(report);
            var path = parse.GetValue(output)!.FullName;
            await File.WriteAllTextAsync(path, text, new UTF8Encoding(false), cancellationToken);
            await streams.Out.WriteLineAsync($"Wrote {path}: {report.Summary.Total} requirements ({report.Summary.Done} done, {report.Summary.Partial} partial, "
                + $"{report.Summary.Planned} planned, {report.Summary.NotTraced} not traced), {report.Evidence.Count(e => e.Available)} of {report.Evidence.Count} evidence items available.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
