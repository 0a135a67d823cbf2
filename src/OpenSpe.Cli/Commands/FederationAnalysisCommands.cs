using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe federation glm</c> and <c>spe federation count</c>: a researcher's federated analyses, asked of the coordinating SPE the
/// researcher is signed in to (<c>POST /api/v1/projects/{id}/federation/glm|count</c>), which asks every node of the permit.
/// </summary>
internal static class FederationAnalysisCommands
{
    private const string ExitHelp = "Exit status: 0 success, 1 failure (the problem on standard error, naming each node that refused), 2 bad usage.";

    /// <summary>The members of <c>glm --json</c>, in this order, and no others.</summary>
    private static readonly string[] GlmJsonMembers = ["coefficients", "deviance", "df", "nValid", "nMissing", "iterations", "nodes"];

    /// <summary>Adds <c>glm</c>, <c>count</c>, and (<see cref="FederationTrainCommands"/>) <c>train</c> and <c>privacy</c> to the <c>federation</c> verb.</summary>
    public static Command AddTo(Command federation, ClientEnvironment? environment = null)
    {
        ArgumentNullException.ThrowIfNull(federation);
        var env = environment ?? ClientEnvironment.System;
        federation.Subcommands.Add(Glm(env));
        federation.Subcommands.Add(Count(env));
        return FederationTrainCommands.AddTo(federation, env);
    }

    private static Option<string> Project() => new("--project") { Description = "The project's id, from 'spe project list'.", HelpName = "id", Required = true };

    private static Command Glm(ClientEnvironment env)
    {
        var project = Project();
        var formula = new Option<string>("--formula") { Description = "An R model formula, e.g. \"DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL\".", HelpName = "formula", Required = true };
        var family = new Option<string>("--family") { Description = "gaussian, binomial or poisson.", HelpName = "family", Required = true };
        family.AcceptOnlyFromAmong("gaussian", "binomial", "poisson");
        var table = new Option<string?>("--table") { Description = "The CSV file in each node's dataset (when a node holds more than one).", HelpName = "file" };
        var levels = FactorLevelsOption.Create();
        var json = CommonOptions.Json();
        var command = new Command("glm", "Fit an exact federated GLM over every node of the project's permit: each node checks the permit, you and the component itself, "
            + "applies its disclosure traps and returns only sums; the coordinating SPE combines them. A fit that did not converge is still printed, as R's glm() "
            + "prints it, with a warning on standard error (and under the table), and the exit status stays 0. " + ExitHelp)
        {
            project, formula, family, table, levels, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var fixedLevels = FactorLevelsOption.Parse(parse.GetValue(levels), out var bad);
            if (bad is not null)
            {
                streams.Error.WriteLine($"federation glm: --levels '{bad}' is not COLUMN=LEVEL,LEVEL,... with distinct levels and each column once");
                return ExitCodes.Usage;
            }

            using var api = SpeApiClient.Open(env);
            streams.Error.WriteLine($"federation glm: asking the nodes of project {parse.GetValue(project)}...");
            var raw = await FederatedProgressReader.RunAsync(api, $"api/v1/projects/{Segment(parse.GetValue(project)!)}/federation/glm",
                new { formula = parse.GetValue(formula), family = parse.GetValue(family), table = parse.GetValue(table), levels = fixedLevels }, streams.Error, cancellationToken);
            NodeStatus(streams.Error, raw);
            // Note: the warning goes to standard error in both forms because --json keeps the issue's fixed members, which do
            // not include 'converged', and a script reading standard output alone must not take a failed fit for a good one.
            if (ConvergenceWarning(raw) is { } warning)
            {
                streams.Error.WriteLine(warning);
            }

            if (parse.GetValue(json))
            {
                var shaped = new JsonObject();
                foreach (var member in GlmJsonMembers)
                {
                    shaped[member] = JsonNode.Parse(raw.GetProperty(member).GetRawText());
                }

                JsonOutput.Write(streams.Out, shaped);
            }
            else
            {
                WriteGlmTable(streams.Out, raw);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Count(ClientEnvironment env)
    {
        var project = Project();
        var concept = new Option<long>("--concept") { Description = "The OMOP concept id whose persons are counted.", HelpName = "id", Required = true };
        var descendants = new Option<bool>("--descendants") { Description = "Count the concept's descendants too (CONCEPT_ANCESTOR)." };
        var by = new Option<string?>("--by") { Description = "Strata: gender, age or gender,age.", HelpName = "strata" };
        var json = CommonOptions.Json();
        var command = new Command("count", "Count the persons with an OMOP concept over every node of the project's permit; each node suppresses counts below the "
            + "permit's threshold before they leave it, and the total adds released counts only. " + ExitHelp)
        {
            project, concept, descendants, by, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var strata = (parse.GetValue(by) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            using var api = SpeApiClient.Open(env);
            streams.Error.WriteLine($"federation count: asking the nodes of project {parse.GetValue(project)}...");
            var raw = await FederatedProgressReader.RunAsync(api, $"api/v1/projects/{Segment(parse.GetValue(project)!)}/federation/count",
                new { concept = parse.GetValue(concept), descendants = parse.GetValue(descendants), by = strata }, streams.Error, cancellationToken);
            NodeStatus(streams.Error, raw);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.Write(streams.Out, ["GENDER", "AGE BAND", "COUNT", "SUPPRESSED AT NODES"],
                raw.GetProperty("strata").EnumerateArray().Select(s => (IReadOnlyList<string?>)[Text(s, "gender"), Text(s, "ageBand"),
                    s.GetProperty("count").GetInt64().ToString(CultureInfo.InvariantCulture), s.GetProperty("suppressedAtNodes").GetInt32().ToString(CultureInfo.InvariantCulture)]),
                "No strata.");
            var lower = raw.GetProperty("totalIsLowerBound").GetBoolean() ? " (at least: some counts were suppressed at a node)" : "";
            streams.Out.WriteLine($"Total: {raw.GetProperty("total").GetInt64().ToString(CultureInfo.InvariantCulture)}{lower}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";

    /// <summary>Each node's status, on standard error.</summary>
    private static void NodeStatus(TextWriter error, JsonElement raw)
    {
        foreach (var node in raw.GetProperty("nodes").EnumerateArray())
        {
            var rows = node.TryGetProperty("nValid", out var valid) ? $" ({valid.GetInt32()} rows used, {node.GetProperty("nMissing").GetInt32()} with a missing value)" : "";
            error.WriteLine($"  node {node.GetProperty("name").GetString()}: {node.GetProperty("status").GetString()}{rows}");
        }
    }

    /// <summary>
    /// R's warning for a fit that stopped at the iteration limit without converging (<c>glm.fit: algorithm did not converge</c>),
    /// with what usually causes it; null when the fit converged or the answer does not say.
    /// </summary>
    internal static string? ConvergenceWarning(JsonElement raw) =>
        raw.TryGetProperty("converged", out var converged) && converged.ValueKind == JsonValueKind.False
            ? $"warning: the algorithm did not converge in {raw.GetProperty("iterations").GetInt32().ToString(CultureInfo.InvariantCulture)} iterations; "
                + "estimates may be unreliable (e.g. perfect separation, or a factor level with all outcomes alike)"
            : null;

    /// <summary>The coefficients as R's <c>summary(glm(...))</c> prints them.</summary>
    internal static void WriteGlmTable(TextWriter output, JsonElement raw)
    {
        var dispersionEstimated = raw.GetProperty("family").GetString() == "gaussian";
        output.WriteLine($"Call: glm(formula = {raw.GetProperty("formula").GetString()}, family = {raw.GetProperty("family").GetString()}) over {raw.GetProperty("nodes").GetArrayLength()} nodes");
        output.WriteLine();
        output.WriteLine("Coefficients:");
        var rows = raw.GetProperty("coefficients").EnumerateObject()
            .Select(c => (c.Name, Number(c.Value, "estimate"), Number(c.Value, "se"), Number(c.Value, "z"), Number(c.Value, "p"))).ToList();
        var width = Math.Max(12, rows.Max(r => r.Name.Length));
        output.WriteLine($"{"".PadRight(width)} {"Estimate",12} {"Std. Error",12} {(dispersionEstimated ? "t value" : "z value"),9} {(dispersionEstimated ? "Pr(>|t|)" : "Pr(>|z|)"),10}");
        foreach (var (name, estimate, se, z, p) in rows)
        {
            output.WriteLine($"{name.PadRight(width)} {estimate,12} {se,12} {z,9} {p,10}");
        }

        output.WriteLine();
        output.WriteLine($"Residual deviance: {raw.GetProperty("deviance").GetDouble().ToString("F3", CultureInfo.InvariantCulture)} on {raw.GetProperty("df").GetInt32()} degrees of freedom");
        output.WriteLine($"Observations used: {raw.GetProperty("nValid").GetInt32()} ({raw.GetProperty("nMissing").GetInt32()} deleted due to missingness)");
        output.WriteLine($"Number of Fisher scoring iterations: {raw.GetProperty("iterations").GetInt32()}");
        if (ConvergenceWarning(raw) is { } warning)
        {
            output.WriteLine();
            output.WriteLine(warning);
        }
    }

    private static string Number(JsonElement element, string name)
    {
        var value = element.GetProperty(name);
        if (value.ValueKind != JsonValueKind.Number)
        {
            return "NA";
        }

        var d = value.GetDouble();
        return name == "p" && d < 2e-16 ? "<2e-16" : d.ToString(name == "p" ? "G4" : "F7", CultureInfo.InvariantCulture);
    }
}
