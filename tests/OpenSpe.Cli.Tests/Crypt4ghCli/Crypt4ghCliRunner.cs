using System.Diagnostics;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Crypt4ghCli;

/// <summary>The outcome of one <c>spe</c> run: binary standard output, text standard error.</summary>
public sealed record CliRun(int ExitCode, byte[] Stdout, string Stderr);

/// <summary>
/// Runs the real <c>spe</c> executable with bytes on standard input and bytes read back from standard output
/// (SpeProcess works in text, which would mangle ciphertext).
/// </summary>
public static class Crypt4ghCliRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Pipes <paramref name="stdin"/> (a pipe: not seekable) into <c>spe args...</c>, with <paramref name="passphrase"/>
    /// as C4GH_PASSPHRASE (null: the child has none, whatever this process has).
    /// </summary>
    public static Task<CliRun> RunAsync(byte[] stdin, string? passphrase, params string[] args) =>
        RunAsync(Prepare(SpeProcess.StartInfo(args), passphrase), stdin);

    /// <summary>Runs <c>spe args... &lt; file</c> through the shell, so that standard input is a seekable regular file.</summary>
    public static Task<CliRun> RunWithFileInputAsync(string inputFile, string? passphrase, params string[] args)
    {
        var info = Prepare(SpeProcess.StartInfo(args), passphrase);

        // "$0" is dotnet, "$@" the spe.dll path and the arguments, exactly as SpeProcess built them.
        info.ArgumentList.Insert(0, info.FileName);
        info.ArgumentList.Insert(0, "exec \"$0\" \"$@\" < \"$SPE_TEST_STDIN\"");
        info.ArgumentList.Insert(0, "-c");
        info.FileName = "/bin/sh";
        info.Environment["SPE_TEST_STDIN"] = inputFile;
        return RunAsync(info, []);
    }

    private static ProcessStartInfo Prepare(ProcessStartInfo info, string? passphrase)
    {
        info.Environment.Remove("C4GH_PASSPHRASE");
        if (passphrase is not null)
        {
            info.Environment["C4GH_PASSPHRASE"] = passphrase;
        }

        return info;
    }

    private static async Task<CliRun> RunAsync(ProcessStartInfo info, byte[] stdin)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var process = Process.Start(info)!;
        try
        {
            using var stdout = new MemoryStream();
            var reading = process.StandardOutput.BaseStream.CopyToAsync(stdout, timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);

            // Written while the output is drained, or a child that writes as it reads would block on a full pipe.
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin, timeout.Token);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child stopped reading (it failed early); its exit code and standard error tell why.
            }

            await process.WaitForExitAsync(timeout.Token);
            await reading;
            return new CliRun(process.ExitCode, stdout.ToArray(), await stderr);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}
