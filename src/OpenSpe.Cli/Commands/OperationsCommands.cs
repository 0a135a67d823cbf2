using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe operations components</c> (OPR-3, OPR-4, OPR-28): the component inventory over <c>/api/v1/operations/components</c> (operators, auditors).</summary>
internal static class OperationsCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("operations", "Operations views for operators and auditors.");
        var json = CommonOptions.Json();
        var components = new Command("components", "The component inventory: SPE build, .NET runtime, system components, NuGet packages (SBOM made at build), NuGet audit, and the federated components' version and SHA-256 for permits.") { json };
        components.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, inventory) = await api.CallAsync<ComponentInventoryView>(HttpMethod.Get, "api/v1/operations/components", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.WriteFields(streams.Out,
            [
                ("SPE", inventory.Spe.Version + (inventory.Spe.Commit is { } commit ? " (" + commit + ")" : "")),
                ("Runtime", inventory.Runtime.Framework),
                ("OS", inventory.Runtime.OperatingSystem),
                ("SBOM", $"{inventory.Sbom.Format}, {inventory.Sbom.PackageCount} packages ({inventory.Sbom.Tool})"),
                ("NuGet audit", inventory.Audit.Note),
            ]);
            await streams.Out.WriteLineAsync();
            TableWriter.Write(streams.Out, ["SYSTEM COMPONENT", "VERSION", "SOURCE"],
                inventory.System.Select(s => (IReadOnlyList<string?>)[s.Name, s.Version ?? (s.Found ? "unknown" : "not found"), s.Source]), "None.");
            await streams.Out.WriteLineAsync();
            TableWriter.Write(streams.Out, ["PACKAGE", "VERSION", "KNOWN VULNERABLE"],
                inventory.Packages.Select(p => (IReadOnlyList<string?>)[p.Name, p.Version, p.KnownVulnerable
                    ? "YES" + string.Concat((p.Advisories ?? []).Select(a => $" ({a.Severity}: {a.Advisory})"))
                    : "no"]), "No packages.");
            await streams.Out.WriteLineAsync();
            // Note: the full SHA-256, because an HDAB copies it into a permit's approvedComponents entry as it is.
            TableWriter.Write(streams.Out, ["FEDERATED COMPONENT", "VERSION", "SHA-256", "ALLOWED HERE"],
                (inventory.Federated ?? []).Select(f => (IReadOnlyList<string?>)[f.Name, f.Version, f.Sha256, f.Allowed ? "yes" : "no"]), "No runner manifest in this build.");
            return ExitCodes.Success;
        }));
        command.Subcommands.Add(components);
        return command;
    }
}
