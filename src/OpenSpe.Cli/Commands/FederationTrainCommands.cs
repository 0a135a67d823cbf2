using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe federation train</c> and <c>spe federation privacy</c>: federated learning (FedAvg logistic regression with each node's
/// clipped, noised updates) asked of the coordinating SPE (<c>POST /api/v1/projects/{id}/federation/train</c>), and the permit's
/// privacy budget as spent (<c>GET …/federation/privacy</c>).
/// </summary>
internal static class FederationTrainCommands
{
    private const string ExitHelp = "Exit status: 0 success, 1 failure (the problem on standard error, naming each node that refused), 2 bad usage.";

    /// <summary>Adds <c>train</c> and <c>privacy</c> to the <c>federation</c> verb.</summary>
    public static Command AddTo(Command federation, ClientEnvironment? environment = null)
    {
        ArgumentNullException.ThrowIfNull(federation);
        var env = environment ?? ClientEnvironment.System;
        federation.Subcommands.Add(Train(env));
        federation.Subcommands.Add(Privacy(env));
        return federation;
    }

    private static Option<string> Project() => new("--project") { Description = "The project's id, from 'spe project list'.", HelpName = "id", Required = true };

    private static Command Train(ClientEnvironment env)
    {
        var project = Project();
        var formula = new Option<string>("--formula") { Description = "An R model formula with a 0/1 response, e.g. \"DIS_DIAB ~ GENDER + PM_BMI_CONTINUOUS\".", HelpName = "formula", Required = true };
        var noise = new Option<string>("--noise-variance")
        {
            Description = "σ² of the discrete Gaussian noise each node adds per coordinate, in units², exact (\"12.5\" or \"25/2\"). Each round costs ρ = 2K²/σ².",
            HelpName = "sigma2",
            Required = true,
        };
        var rounds = new Option<int?>("--rounds") { Description = "Rounds of federated averaging (1-10000; default 20).", HelpName = "n" };
        var clip = new Option<long?>("--clip-units") { Description = "K: the L2 bound of each node's update in units (default 10000).", HelpName = "k" };
        var granularity = new Option<double?>("--granularity") { Description = "Value of one unit of an update (default 1e-4).", HelpName = "g" };
        var rate = new Option<double?>("--learning-rate") { Description = "Step size of each node's local gradient steps (default 0.5).", HelpName = "rate" };
        var epochs = new Option<int?>("--local-epochs") { Description = "Full-batch gradient steps each node takes per round (1-100; default 1).", HelpName = "n" };
        var table = new Option<string?>("--table") { Description = "The CSV file in each node's dataset (when a node holds more than one).", HelpName = "file" };
        var scale = new Option<string[]>("--scale")
        {
            Description = "Centre and scale a model column by public constants you choose: COLUMN=CENTER,SCALE (repeatable); estimates come back on the original scale.",
            HelpName = "column=center,scale",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = CommonOptions.Json();
        var command = new Command("train", "Train a logistic regression by federated averaging over every node of the project's permit: each node clips its update, adds "
            + "exact discrete Gaussian noise and charges the permit's privacy budget on its own ledger; the coordinating SPE charges the run first and refuses "
            + "the round that would overspend. " + ExitHelp)
        {
            project, formula, noise, rounds, clip, granularity, rate, epochs, table, scale, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var scaling = new Dictionary<string, double[]>(StringComparer.Ordinal);
            foreach (var item in parse.GetValue(scale) ?? [])
            {
                var equals = item.IndexOf('=', StringComparison.Ordinal);
                var pair = equals > 0 ? item[(equals + 1)..].Split(',') : [];
                if (pair.Length != 2 || !double.TryParse(pair[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var center)
                    || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var factor))
                {
                    streams.Error.WriteLine($"federation train: --scale '{item}' is not COLUMN=CENTER,SCALE");
                    return ExitCodes.Usage;
                }

                scaling[item[..equals]] = [center, factor];
            }

            var body = new Dictionary<string, object?> { ["formula"] = parse.GetValue(formula), ["noiseVariance"] = parse.GetValue(noise) };
            Put(body, "rounds", parse.GetValue(rounds));
            Put(body, "clipUnits", parse.GetValue(clip));
            Put(body, "granularity", parse.GetValue(granularity));
            Put(body, "learningRate", parse.GetValue(rate));
            Put(body, "localEpochs", parse.GetValue(epochs));
            Put(body, "table", parse.GetValue(table));
            Put(body, "scaling", scaling.Count == 0 ? null : scaling);
            using var api = SpeApiClient.Open(env);
            streams.Error.WriteLine($"federation train: training over the nodes of project {parse.GetValue(project)}...");
            var raw = await FederatedProgressReader.RunAsync(api, $"api/v1/projects/{Segment(parse.GetValue(project)!)}/federation/train", body, streams.Error, cancellationToken);
            foreach (var node in raw.GetProperty("nodes").EnumerateArray())
            {
                streams.Error.WriteLine($"  node {node.GetProperty("name").GetString()}: {node.GetProperty("status").GetString()} ({node.GetProperty("rows").GetInt32()} complete rows)");
            }

            if (raw.TryGetProperty("stopped", out var stopped) && stopped.ValueKind == JsonValueKind.Object)
            {
                streams.Error.WriteLine($"federation train: stopped after {raw.GetProperty("rounds").GetInt32()} rounds: {stopped.GetProperty("code").GetString()} {stopped.GetProperty("message").GetString()}");
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
                return ExitCodes.Success;
            }

            TableWriter.Write(streams.Out, ["TERM", "ESTIMATE"],
                raw.GetProperty("coefficients").EnumerateObject().Select(c => (IReadOnlyList<string?>)[c.Name, c.Value.GetDouble().ToString("F6", CultureInfo.InvariantCulture)]),
                "No coefficients.");
            streams.Out.WriteLine($"Rounds: {raw.GetProperty("rounds").GetInt32()}, ρ per round per node: {Rho(raw.GetProperty("rhoPerRound").GetDouble())}");
            WriteSpend(streams.Out, raw.GetProperty("privacy"));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Privacy(ClientEnvironment env)
    {
        var project = Project();
        var json = CommonOptions.Json();
        var command = new Command("privacy", "Show the permit's differential-privacy budget and what was spent of it: by the analyses coordinated at this SPE (everyone's and "
            + "yours) and on this SPE's own rows. " + ExitHelp)
        {
            project, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, _) = await api.CallAsync<JsonElement>(HttpMethod.Get, $"api/v1/projects/{Segment(parse.GetValue(project)!)}/federation/privacy", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                WriteSpend(streams.Out, raw);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Put(Dictionary<string, object?> body, string name, object? value)
    {
        if (value is not null)
        {
            body[name] = value;
        }
    }

    /// <summary>The budget and the spend in each book, as ε at the budget's δ and as ρ.</summary>
    private static void WriteSpend(TextWriter output, JsonElement privacy)
    {
        var budget = privacy.GetProperty("budget");
        output.WriteLine($"Privacy budget of permit {privacy.GetProperty("permit").GetString()}: ε {Number(budget, "epsilon")}, δ {Number(budget, "delta")} (ρ {Number(budget, "rho")})");
        TableWriter.Write(output, ["SPENT BY", "EPSILON", "RHO", "OF WHICH RESERVED"],
            new[] { ("coordinated here (everyone)", "coordinated"), ("coordinated here (you)", "mine"), ("on this SPE's rows", "thisNode") }
                .Where(b => privacy.TryGetProperty(b.Item2, out var v) && v.ValueKind == JsonValueKind.Object)
                .Select(b => (IReadOnlyList<string?>)[b.Item1, Number(privacy.GetProperty(b.Item2), "epsilon"), Number(privacy.GetProperty(b.Item2), "rho"),
                    Number(privacy.GetProperty(b.Item2), "reservedRho")]),
            "Nothing spent.");
    }

    private static string Number(JsonElement element, string name) => element.GetProperty(name).GetDouble().ToString("G6", CultureInfo.InvariantCulture);

    private static string Rho(double rho) => rho.ToString("G6", CultureInfo.InvariantCulture);
}
