using System.CommandLine;
using System.Text.Json;

namespace OpenSpe.Cli.Client;

/// <summary>Runs a client verb: failures become <c>spe: message</c> on standard error and exit 1, usage problems exit 2.</summary>
internal static class ClientCommand
{
    /// <summary>Where a verb writes.</summary>
    internal sealed record Streams(TextWriter Out, TextWriter Error);

    public static async Task<int> RunAsync(ParseResult parse, Func<Streams, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(action);
        var streams = new Streams(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        try
        {
            return await action(streams);
        }
        catch (SpeUsageException ex)
        {
            await streams.Error.WriteLineAsync($"spe: {ex.Message}");
            await streams.Error.WriteLineAsync($"Run '{CommandPath(parse)} --help' for usage.");
            return ex.ExitCode;
        }
        catch (SpeClientException ex)
        {
            await streams.Error.WriteLineAsync($"spe: {ex.Message}");
            return ex.ExitCode;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The credential store: a full disk or a directory someone else owns.
            await streams.Error.WriteLineAsync($"spe: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
        catch (JsonException ex)
        {
            await streams.Error.WriteLineAsync($"spe: unexpected answer from the server: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Adds one-line guidance to standard error (data stays alone on standard output).</summary>
    public static void Hint(this Streams streams, string text)
    {
        ArgumentNullException.ThrowIfNull(streams);
        streams.Error.WriteLine(text);
    }

    /// <summary>The command line up to the verb that was parsed: <c>spe audit export</c>.</summary>
    public static string CommandPath(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command is RootCommand ? "spe" : result.Command.Name);
        }

        names.Reverse();
        return names.Count > 0 && names[0] == "spe" ? string.Join(' ', names) : "spe " + string.Join(' ', names);
    }
}
