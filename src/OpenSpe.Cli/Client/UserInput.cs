using System.Text;

namespace OpenSpe.Cli.Client;

/// <summary>Where secrets and codes come from: a terminal (prompts) or standard input (scripts).</summary>
internal interface IUserInput
{
    /// <summary>True when standard input is an interactive terminal, so prompting makes sense.</summary>
    bool IsTerminal { get; }

    /// <summary>Reads one line from standard input, or null at its end.</summary>
    string? ReadLine();

    /// <summary>Prompts on standard error and reads a line; <paramref name="echo"/> false hides what is typed.</summary>
    string Prompt(string prompt, bool echo);
}

/// <summary>The real console. Prompts go to standard error so that standard output stays data.</summary>
internal sealed class ConsoleUserInput : IUserInput
{
    public bool IsTerminal => !Console.IsInputRedirected;

    public string? ReadLine() => Console.In.ReadLine();

    public string Prompt(string prompt, bool echo)
    {
        Console.Error.Write(prompt);
        Console.Error.Flush();
        if (echo)
        {
            return Console.In.ReadLine() ?? throw new SpeUsageException("standard input ended before an answer was given");
        }

        try
        {
            return ReadHidden();
        }
        catch (InvalidOperationException ex)
        {
            // ReadKey needs a real terminal; some "terminals" (e.g. /dev/null) pass the redirect check but cannot be read key by key.
            throw new SpeUsageException("cannot read a hidden answer from this terminal; use --password-stdin", ex);
        }
        finally
        {
            Console.Error.WriteLine();
        }
    }

    private static string ReadHidden()
    {
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    return text.ToString();
                case ConsoleKey.Backspace when text.Length > 0:
                    text.Length--;
                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        text.Append(key.KeyChar);
                    }

                    break;
            }
        }
    }
}
