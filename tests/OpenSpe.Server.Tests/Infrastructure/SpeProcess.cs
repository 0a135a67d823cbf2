using System.Diagnostics;
using System.Text;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>Runs the real `spe` executable (built next to the tests) as a user would.</summary>
public static class SpeProcess
{
    public static string EntryAssembly => Path.Combine(AppContext.BaseDirectory, "spe.dll");

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(EntryAssembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The child must not inherit a test's SPE__ settings by accident.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("SPE__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        return info;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
