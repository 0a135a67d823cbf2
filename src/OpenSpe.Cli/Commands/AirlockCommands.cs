using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Disclosure;
using OpenSpe.Disclosure.Descriptions;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe airlock check|describe</c>: the airlock's automatic disclosure checks, offline (no server), so researchers can
/// check outputs in a workspace or on any machine before they ask for an export.
/// </summary>
internal static class AirlockCommands
{
    /// <summary>Exit status of <c>check</c> when no file fails and at least one needs a person's review.</summary>
    public const int Review = 3;

    public static Command Create()
    {
        var command = new Command("airlock", "Check outputs for disclosure risk before an export request, offline: the same automatic checks the airlock runs.");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Describe());
        return command;
    }

    private static Command Check()
    {
        var files = new Argument<string[]>("FILE") { Description = "The output files to check.", Arity = ArgumentArity.OneOrMore };
        var meta = new Option<string?>("--meta") { Description = "The output description (JSON: {\"outputs\": [...]}, see docs/disclosure.md). Without it every file is 'review'.", HelpName = "DESCRIPTION.json" };
        var policy = new Option<string?>("--policy") { Description = "The rule parameters: the same object as a permit's policies.airlock (threshold, dominanceN, dominanceK, pPercent, kAnonymity, lDiversity, zerosAllowed, minResidualDf).", HelpName = "POLICY.json" };
        var json = CommonOptions.Json();
        var command = new Command("check", "Check each FILE: file type by extension and content, direct identifiers, and the rules of its described kind. "
            + "Exit status: 0 every file passes, 1 any file fails, 3 none fails and some need review, 2 bad usage (unreadable or invalid description or policy).")
        {
            files, meta, policy, json,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var paths = parse.GetValue(files)!;
            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    throw new SpeUsageException($"{path}: no such file");
                }
            }

            var descriptions = parse.GetValue(meta) is { } metaPath ? OutputDescriptionParser.Parse(ReadAll(metaPath)) : [];
            var rules = parse.GetValue(policy) is { } policyPath ? DisclosurePolicyParser.Parse(ReadAll(policyPath)) : DisclosurePolicy.Default;
            var report = new OutputChecker(rules).Check(paths, descriptions);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(DisclosureReportJson.Write(report));
            }
            else
            {
                WriteText(output, report);
            }

            return report.Status switch
            {
                DisclosureStatus.Pass => ExitCodes.Success,
                DisclosureStatus.Review => Review,
                _ => ExitCodes.Failure,
            };
        }));
        return command;
    }

    private static Command Describe()
    {
        var files = new Argument<string[]>("FILE") { Description = "The output files to describe.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("describe", "Print a starting output description for the FILEs, guessed from their headers and content, to edit and pass to 'check --meta'.")
        {
            files,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var paths = parse.GetValue(files)!;
            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    throw new SpeUsageException($"{path}: no such file");
                }
            }

            parse.InvocationConfiguration.Output.WriteLine(DescriptionDrafter.Draft(paths));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void WriteText(TextWriter output, DisclosureReport report)
    {
        foreach (var file in report.Files)
        {
            output.WriteLine($"{file.Status.ToName().ToUpperInvariant(),-7} {file.File}");
            foreach (var finding in file.Findings)
            {
                output.WriteLine($"        {finding.Rule}: {finding.Reason}");
                if (finding.Positions.Count > 0)
                {
                    var shown = finding.Positions.Take(10).ToList();
                    var more = finding.Positions.Count > shown.Count ? $" and {finding.Positions.Count - shown.Count} more" : "";
                    output.WriteLine($"          at {string.Join("; ", shown)}{more}");
                }
            }
        }

        output.WriteLine($"Overall: {report.Status.ToName()}");
    }

    private static string ReadAll(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpeUsageException($"{path}: {e.Message}", e);
        }
    }

    private static int Run(ParseResult parse, Func<int> action)
    {
        var error = parse.InvocationConfiguration.Error;
        var verb = "spe airlock " + parse.CommandResult.Command.Name;
        try
        {
            return action();
        }
        catch (SpeUsageException e)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(e.Message)}");
            return ExitCodes.Usage;
        }
        catch (DescriptionException e)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(e.Message)}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(e.Message)}");
            return ExitCodes.Usage;
        }
    }
}
