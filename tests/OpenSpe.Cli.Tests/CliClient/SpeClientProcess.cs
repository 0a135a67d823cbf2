using System.Diagnostics;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>
/// Runs the real <c>spe</c> as a user would, with its own config directory (<c>SPE_CONFIG_DIR</c>)
/// and optional standard input, for end-to-end tests of <c>spe login</c> and the verbs after it.
/// </summary>
public static class SpeClientProcess
{
    /// <param name="configDirectory">Where the session is kept (credentials.json).</param>
    /// <param name="stdin">Written to standard input, which is then closed (e.g. the password for --password-stdin); null closes it at once.</param>
    /// <param name="args">The command line after <c>spe</c>.</param>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string configDirectory, string? stdin, params string[] args)
    {
        var info = SpeProcess.StartInfo(args);
        info.Environment["SPE_CONFIG_DIR"] = configDirectory;
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
