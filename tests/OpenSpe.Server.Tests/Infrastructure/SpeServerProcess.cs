using System.Diagnostics;
using System.Text;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// A real `spe server --dev` child process with its logging configuration as shipped, every line it
/// writes kept, and a graceful stop (SIGTERM) so the console logger flushes before the output is read.
/// </summary>
public sealed class SpeServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _pumps;
    private readonly TaskCompletionSource<string> _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _fingerprint;
    private int _bannerEnd = -1;

    private SpeServerProcess(Process process, string data, int port)
    {
        _process = process;
        DataPath = data;
        BaseAddress = new Uri($"https://127.0.0.1:{port}");
        _pumps = Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError));
    }

    public string DataPath { get; }

    public Uri BaseAddress { get; }

    /// <summary>Starts `spe server --dev` on <paramref name="data"/> and waits until it serves; <paramref name="environment"/> adds variables (e.g. <c>SPE__Logging__LogLevel__X</c>).</summary>
    public static async Task<SpeServerProcess> StartAsync(string data, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = SpeTestServer.FreePort();
        // Started through sh with the usual umask 022, so the test process's own umask (which an in-process server tightens) is not inherited.
        var info = SpeProcess.StartInfo("server", "--dev", "--data-dir", data, "--urls", $"https://127.0.0.1:{port}");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var arguments = info.ArgumentList.ToList();
        info.ArgumentList.Clear();
        foreach (var argument in (string[])["-c", "umask 022 && exec \"$0\" \"$@\"", info.FileName, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.FileName = "sh";
        var process = Process.Start(info)!;
        process.StandardInput.Close();
        var server = new SpeServerProcess(process, data, port);
        try
        {
            await server._serving.Task.WaitAsync(TimeSpan.FromSeconds(120));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client that trusts exactly this server's certificate.</summary>
    public HttpClient Client() => PinnedHttp.Create(BaseAddress, _serving.Task.Result);

    /// <summary>The dev accounts the server seeded.</summary>
    public IReadOnlyList<DevAccount> Accounts() => DevAccounts.LoadOrCreate(DataDirectory.OpenExisting(DataPath));

    /// <summary>Stops the server with SIGTERM and returns everything it wrote after its start-up banner.</summary>
    public async Task<string> StopAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            {
                await kill.WaitForExitAsync();
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await _pumps;
        lock (_output)
        {
            return _output.ToString(Math.Max(_bannerEnd, 0), _output.Length - Math.Max(_bannerEnd, 0));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
                if (line.StartsWith("TLS SHA-256", StringComparison.Ordinal))
                {
                    _fingerprint = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
                }

                if (line.StartsWith("Serving on", StringComparison.Ordinal) && _fingerprint is not null)
                {
                    // The dev banner prints the dev accounts' passwords on purpose; only what follows it is log output.
                    _bannerEnd = _output.Length;
                    _serving.TrySetResult(_fingerprint);
                }
            }
        }

        _serving.TrySetException(new InvalidOperationException("spe server exited before serving: " + _output));
    }
}
