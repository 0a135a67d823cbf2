using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OpenSpe.Bench;

/// <summary>
/// The web terminal's echo round trip through the gateway, as a browser sees it: <c>spe server --dev</c> (bubblewrap sandboxes),
/// a permit that allows terminals, the researcher's WebSocket over loopback TLS, and in the shell <c>cat &gt; /dev/null</c>, so
/// each key is echoed by the PTY's line discipline. One round trip: a one-byte binary frame sent, until the frame that echoes
/// it arrives (gateway → PTY helper → PTY → helper → recording → gateway). Also the time from the upgrade to the first prompt.
/// </summary>
internal static class TerminalEchoBenchmark
{
    /// <summary><c>terminal [--keys 1000] [--spe PATH/spe.dll]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var keys = int.Parse(UploadBenchmark.Option(args, "--keys") ?? "1000", CultureInfo.InvariantCulture);
        var spe = UploadBenchmark.Option(args, "--spe") ?? UploadBenchmark.FindSpe();
        if (spe is null || !File.Exists(spe))
        {
            await Console.Error.WriteLineAsync("spe.dll not found: build it with 'dotnet build -c Release src/OpenSpe.Cli' or pass --spe PATH/spe.dll");
            return 2;
        }

        var directory = Path.Combine(Path.GetTempPath(), "openspe-bench", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var dataDirectory = Path.Combine(directory, "data");
        var baseUrl = new Uri($"https://127.0.0.1:{BenchPorts.Free()}/");
        using var server = UploadBenchmark.StartServer(spe, dataDirectory, baseUrl, 1L << 30);
        try
        {
            var fingerprint = await UploadBenchmark.WaitForServerAsync(server);
            await UploadBenchmark.LoginAsync(spe, dataDirectory, baseUrl, fingerprint, "hdab", Path.Combine(directory, "config-hdab"));
            await UploadBenchmark.LoginAsync(spe, dataDirectory, baseUrl, fingerprint, "researcher", Path.Combine(directory, "config-researcher"));
            var project = await IssuePermitAsync(baseUrl, fingerprint, UploadBenchmark.AccessToken(Path.Combine(directory, "config-hdab")));
            var token = UploadBenchmark.AccessToken(Path.Combine(directory, "config-researcher"));
            using var http = BenchHttp.PinnedClient(baseUrl, fingerprint, token);
            var terms = (await http.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}/terminal/terms")).GetProperty("version").GetString()!;

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            socket.Options.SetRequestHeader("Spe-Terms-Accepted", terms);
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && string.Equals(Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())), fingerprint, StringComparison.OrdinalIgnoreCase);
            var opening = Stopwatch.StartNew();
            await socket.ConnectAsync(new Uri($"wss://{baseUrl.Authority}/api/v1/projects/{project}/terminal"), CancellationToken.None);
            var upgraded = opening.Elapsed;
            var buffer = new byte[64 * 1024];
            await ReadUntilAsync(socket, buffer, "$ ");
            var prompt = opening.Elapsed;
            await SendAsync(socket, "cat > /dev/null\r");
            await ReadUntilAsync(socket, buffer, "cat > /dev/null\r\n");

            var samples = new List<double>(keys);
            for (var i = 0; i < keys; i++)
            {
                if (i % 100 == 99)
                {
                    // Note: a line ends now and then: canonical mode holds at most 4095 bytes of an unfinished line.
                    await SendAsync(socket, "\r");
                    await ReadUntilAsync(socket, buffer, "\r\n");
                }

                var started = Stopwatch.GetTimestamp();
                await SendAsync(socket, "a");
                await ReadUntilAsync(socket, buffer, "a");
                samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            samples.Sort();
            Console.WriteLine($"server       dotnet {spe} server --dev (bubblewrap), {baseUrl}; {Environment.ProcessorCount} cores shared with the client");
            Console.WriteLine($"open         upgrade {upgraded.TotalMilliseconds:F0} ms (sandbox started before the 101), first prompt {prompt.TotalMilliseconds:F0} ms");
            Console.WriteLine($"echo         {keys} keys: median {Percentile(samples, 0.5):F2} ms, p90 {Percentile(samples, 0.9):F2} ms, p99 {Percentile(samples, 0.99):F2} ms, "
                + $"max {samples[^1]:F2} ms; load average {File.ReadAllText("/proc/loadavg").Trim()}");
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return 0;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

            // Note: the dev runtime keeps the sandboxes' files and the staging outside the data directory, named by a hash of its
            // path (WorkspacesModule.DevDefaults); a killed server leaves them, and no later server of this data directory sweeps them.
            var tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..12];
            foreach (var path in new[] { directory, "/var/tmp/openspe-dev-" + tag, "/dev/shm/openspe-dev-" + tag })
            {
                try
                {
                    if (Directory.Exists(path))
                    {
                        Directory.Delete(path, recursive: true);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"could not remove {path}: {ex.Message}");
                }
            }
        }
    }

    private static Task SendAsync(ClientWebSocket socket, string keys) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(keys), WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>Reads binary frames until their text (since the call) contains <paramref name="text"/>; text frames (the hello) are skipped.</summary>
    private static async Task ReadUntilAsync(ClientWebSocket socket, byte[] buffer, string text)
    {
        var seen = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!seen.ToString().Contains(text, StringComparison.Ordinal))
        {
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"the gateway closed the terminal: {received.CloseStatus} {received.CloseStatusDescription}");
            }

            if (received.MessageType == WebSocketMessageType.Binary)
            {
                seen.Append(Encoding.UTF8.GetString(buffer, 0, received.Count));
            }
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task<string> IssuePermitAsync(Uri baseUrl, string fingerprint, string token)
    {
        using var hdab = BenchHttp.PinnedClient(baseUrl, fingerprint, token);
        var now = DateTimeOffset.UtcNow;
        var response = await hdab.PostAsJsonAsync("/api/v1/permits", new Dictionary<string, object?>
        {
            ["reference"] = "HDAB-BENCH-TERMINAL-" + RandomNumberGenerator.GetHexString(6),
            ["title"] = "Terminal benchmark",
            ["purpose"] = "scientific-research",
            ["legalBasis"] = "EHDS Article 53(1)(e)",
            ["validFrom"] = now.AddMinutes(-1),
            ["validUntil"] = now.AddDays(1),
            ["datasets"] = new[] { new { id = "bench-ds", title = "Benchmark data", holder = "holder" } },
            ["dataUsers"] = new[] { new { account = "researcher" } },
            ["policies"] = new { workspaceKinds = new[] { "terminal" }, clipboard = "none" },
        });
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!
            : throw new InvalidOperationException($"issuing the benchmark permit failed: {(int)response.StatusCode} {body}");
    }
}
