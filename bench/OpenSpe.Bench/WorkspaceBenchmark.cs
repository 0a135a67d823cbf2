using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Contracts;

namespace OpenSpe.Bench;

/// <summary>
/// The workspace figures of issue #13, side by side in one run against <c>spe server --dev</c> (real bubblewrap sandboxes,
/// real Xtigervnc desktops, the real gateway over TLS): sandbox start, job round trip for <c>true</c>, desktop ready to
/// first frame (cold and re-attached), the gateway's added latency per message (the same RFB request through the gateway
/// and straight to the VNC socket), and how many desktops this machine holds at once.
/// </summary>
internal static class WorkspaceBenchmark
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    /// <summary><c>workspaces [--starts 30] [--jobs 20] [--messages 500] [--desktops 24] [--spe PATH/spe.dll]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var starts = Count(args, "--starts", 30);
        var jobs = Count(args, "--jobs", 20);
        var messages = Count(args, "--messages", 500);
        var desktops = Count(args, "--desktops", 24);
        var spe = UploadBenchmark.Option(args, "--spe") ?? UploadBenchmark.FindSpe();
        if (spe is null || !File.Exists(spe))
        {
            await Console.Error.WriteLineAsync("spe.dll not found: build it with 'dotnet build -c Release src/OpenSpe.Cli' or pass --spe PATH/spe.dll");
            return 2;
        }

        Console.WriteLine($"machine      {Environment.ProcessorCount} cores, {MemInfo("MemTotal:") / (double)(1L << 30):F1} GiB, load average {LoadAverage()}");
        await SandboxStartsAsync(starts);

        var directory = Path.Combine(Path.GetTempPath(), "openspe-bench", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var dataDirectory = Path.GetFullPath(Path.Combine(directory, "data"));
        var baseUrl = new Uri($"https://127.0.0.1:{BenchPorts.Free()}/");
        using var server = UploadBenchmark.StartServer(spe, dataDirectory, baseUrl, 1 << 20, new Dictionary<string, string>
        {
            ["SPE__Tokens__AccessTokenLifetime"] = "00:15:00",
        });
        var tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..12];
        var failed = false;
        try
        {
            var fingerprint = await UploadBenchmark.WaitForServerAsync(server, Path.Combine(Path.GetTempPath(), "openspe-bench-workspaces-server.log"));
            var session = new BenchSession(baseUrl, fingerprint, directory, dataDirectory);
            var hdab = await session.LoginAsync(spe, "hdab");
            var researchers = new[] { await session.LoginAsync(spe, "researcher"), await session.LoginAsync(spe, "researcher2") };
            using var hdabClient = BenchHttp.PinnedClient(baseUrl, fingerprint, hdab);
            var first = await IssuePermitAsync(hdabClient, 0);
            Console.WriteLine($"server       dotnet {spe} server --dev, pid {server.Id}, {baseUrl}; sandboxes in /var/tmp/openspe-dev-{tag}");

            using (var researcher = BenchHttp.PinnedClient(baseUrl, fingerprint, researchers[0]))
            {
                await JobRoundTripsAsync(researcher, first, jobs);
                session.TermsVersion = (await researcher.GetFromJsonAsync<DesktopTermsView>($"/api/v1/projects/{first}/desktop/terms"))!.Version;
            }

            await FirstFramesAndLatencyAsync(session, researchers[0], first, tag, messages);
            await ConcurrentDesktopsAsync(session, hdabClient, researchers, desktops, server.Id);
            Console.WriteLine($"load average {LoadAverage()} at the end");
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or WebSocketException)
        {
            // Note: said plainly rather than thrown, with what tells a server crash from a closed session.
            Console.WriteLine($"FAILED: {e.GetType().Name}: {e.Message}");
            Console.WriteLine(server.HasExited ? $"the server exited with code {server.ExitCode}" : "the server still runs");
            Console.WriteLine($"server output: {Path.Combine(Path.GetTempPath(), "openspe-bench-workspaces-server.log")}; data directory kept: {dataDirectory}");
            failed = true;
            return 1;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

            foreach (var path in (string[])(failed ? [] : [directory, "/var/tmp/openspe-dev-" + tag, "/dev/shm/openspe-dev-" + tag]))
            {
                try
                {
                    Directory.Delete(path, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort (also: nothing there): a sandbox still exiting may hold a file a moment longer.
                }
            }
        }
    }

    /// <summary>Start to exit of <c>true</c> through the runtime alone, with cgroups (what the server uses).</summary>
    private static async Task SandboxStartsAsync(int count)
    {
        var bench = new SandboxStartBenchmark { Cgroups = true };
        bench.Setup();
        try
        {
            var times = new List<double>();
            for (var i = -3; i < count; i++)
            {
                var clock = Stopwatch.StartNew();
                await bench.StartToExit();
                if (i >= 0)
                {
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            Console.WriteLine($"sandbox      start to exit of `true`, {count} runs after 3 warm-up: {Summary(times)}   target median < 150 ms");
        }
        finally
        {
            await bench.Cleanup();
        }
    }

    /// <summary>POST a job running <c>true</c>, then follow its log to the end line: what <c>spe job run</c> waits for.</summary>
    private static async Task JobRoundTripsAsync(HttpClient researcher, string project, int count)
    {
        var total = new List<double>();
        var queued = new List<double>();
        var running = new List<double>();
        for (var i = -3; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{project}/jobs", new JobRunRequest(Command: ["true"]));
            var job = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobView>();
            var log = await researcher.GetStringAsync($"/api/v1/projects/{project}/jobs/{job!.Id}/logs?follow=true");
            var elapsed = clock.Elapsed.TotalMilliseconds;
            if (!log.Contains("\"exitCode\":0", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("the job did not end with exit code 0: " + log);
            }

            if (i >= 0)
            {
                var ended = await researcher.GetFromJsonAsync<JobView>($"/api/v1/projects/{project}/jobs/{job.Id}");
                total.Add(elapsed);
                queued.Add((ended!.StartedAt!.Value - ended.CreatedAt).TotalMilliseconds);
                running.Add((ended.EndedAt!.Value - ended.StartedAt.Value).TotalMilliseconds);
            }
        }

        Console.WriteLine($"job          POST to the log's end line for `true`, {count} runs after 3 warm-up: {Summary(total)}");
        Console.WriteLine($"             of which submission to start (server clock): {Summary(queued)}; start to recorded end: {Summary(running)}");
    }

    /// <summary>
    /// Cold and re-attached first frames, then the same 1×1 non-incremental update request through the gateway and straight
    /// to the VNC server's UNIX socket (the server runs as root here, so the benchmark can reach it), one at a time.
    /// </summary>
    private static async Task FirstFramesAndLatencyAsync(BenchSession session, string token, string project, string tag, int messages)
    {
        var (cold, coldSeconds) = await session.OpenDesktopAsync(token, project);
        Console.WriteLine($"desktop      ready to first full frame (1280×800 Raw, 4 MB), cold (X server, window manager and xterm started): {coldSeconds * 1000:F0} ms   target < 3 s");
        var viaGateway = await RoundTripsAsync(cold, messages);
        await cold.DisposeAsync();

        var warm = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var (client, seconds) = await session.OpenDesktopAsync(token, project);
            warm.Add(seconds * 1000);
            await client.DisposeAsync();
        }

        Console.WriteLine($"             re-attached to the running desktop, 5 sessions: {Summary(warm)}");
        var socket = Directory.GetFiles($"/var/tmp/openspe-dev-{tag}/run", "vnc.sock", SearchOption.AllDirectories).Single();
        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await unix.ConnectAsync(new UnixDomainSocketEndPoint(socket));
        await using var direct = new BenchRfbClient(new NetworkStream(unix, ownsSocket: true));
        await direct.HandshakeAsync(CancellationToken.None);
        var straight = await RoundTripsAsync(direct, messages);
        Console.WriteLine($"gateway      1×1 update request round trip, {messages} one at a time: through the gateway (TLS, WebSocket, RFB filter, recording) {Summary(viaGateway)}");
        Console.WriteLine($"             straight to the VNC socket {Summary(straight)}; added by the gateway (medians): {Median(viaGateway) - Median(straight):F3} ms");
    }

    /// <summary>Opens desktops for both researchers in ever more projects, keeping every session open, until <paramref name="target"/>.</summary>
    private static async Task ConcurrentDesktopsAsync(BenchSession session, HttpClient hdab, string[] researchers, int target, int serverPid)
    {
        var baseline = MemInfo("MemAvailable:");
        var open = new List<BenchRfbClient>();
        var firstFrames = new List<double>();
        Console.WriteLine($"concurrent   opening {target} desktops (2 per project, one per researcher), each session kept open; MemAvailable {baseline / (double)(1L << 30):F1} GiB before");
        try
        {
            for (var n = 0; n < target; n += 2)
            {
                var project = await IssuePermitAsync(hdab, 1 + (n / 2));
                foreach (var token in researchers)
                {
                    var (client, seconds) = await session.OpenDesktopAsync(token, project);
                    open.Add(client);
                    firstFrames.Add(seconds * 1000);
                }

                if (open.Count % 4 == 0 || open.Count >= target)
                {
                    var rtt = await RoundTripsAsync(open[0], 50);
                    var all = Stopwatch.StartNew();
                    await Task.WhenAll(open.Select(c => c.RequestFrameAsync(CancellationToken.None)));
                    Console.WriteLine($"  {open.Count,3} open: last cold first frame {firstFrames[^1]:F0} ms, 1×1 round trip on the first {Median(rtt):F2} ms (median), "
                        + $"a full frame on every session at once {all.Elapsed.TotalMilliseconds:F0} ms, desktop processes' PSS {DesktopPss(serverPid) / 1e6:F0} MB, "
                        + $"MemAvailable −{(baseline - MemInfo("MemAvailable:")) / 1e6:F0} MB, load {LoadAverage()}");
                }
            }

            var idle = DesktopCpuTicks(serverPid);
            await Task.Delay(TimeSpan.FromSeconds(10));
            var idleTicks = DesktopCpuTicks(serverPid) - idle;
            Console.WriteLine($"             cold first frames: {Summary(firstFrames)}; idle CPU of all {open.Count} desktops over 10 s: {idleTicks / 100.0:F2} CPU-s");
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<List<double>> RoundTripsAsync(BenchRfbClient client, int count)
    {
        await client.RequestFrameAsync(CancellationToken.None);
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            await client.RequestAsync(0, 0, 1, 1, CancellationToken.None);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    /// <summary>Issues, as the dev HDAB, a permit for both dev researchers that allows jobs and desktops; returns its project.</summary>
    private static async Task<string> IssuePermitAsync(HttpClient hdab, int index)
    {
        var now = DateTimeOffset.UtcNow;
        using var response = await hdab.PostAsJsonAsync("/api/v1/permits", new Dictionary<string, object?>
        {
            ["reference"] = $"HDAB-BENCH-WS-{index}-{RandomNumberGenerator.GetHexString(6)}",
            ["title"] = "Workspace benchmark",
            ["purpose"] = "scientific-research",
            ["legalBasis"] = "EHDS Article 53(1)(e)",
            ["validFrom"] = now.AddMinutes(-1),
            ["validUntil"] = now.AddDays(1),
            ["datasets"] = new[] { new { id = "bench-ds", title = "Benchmark data", holder = "holder" } },
            ["dataUsers"] = new[] { new { account = "researcher" }, new { account = "researcher2" } },
            ["policies"] = new { workspaceKinds = new[] { "job", "desktop" }, clipboard = "none", airlock = new { reviewersRequired = 2 } },
        });
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!
            : throw new InvalidOperationException($"issuing a benchmark permit failed: {(int)response.StatusCode} {body}");
    }

    /// <summary>Proportional set size of the X servers, window managers and terminals under the benchmark's server (shared pages divided among their users).</summary>
    private static long DesktopPss(int serverPid) => DesktopProcesses(serverPid).Sum(pid => Field($"/proc/{pid}/smaps_rollup", "Pss:"));

    private static long DesktopCpuTicks(int serverPid) => DesktopProcesses(serverPid).Sum(pid =>
    {
        try
        {
            // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the command name's closing parenthesis.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    });

    /// <summary>The X servers, window managers and terminals descended from <paramref name="serverPid"/> (not other servers' desktops).</summary>
    private static List<string> DesktopProcesses(int serverPid)
    {
        var parents = new Dictionary<string, string>();
        var desktop = new List<string>();
        foreach (var pid in Directory.EnumerateDirectories("/proc").Select(p => Path.GetFileName(p)).Where(p => p.All(char.IsAsciiDigit)))
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                parents[pid] = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
                if (File.ReadAllText($"/proc/{pid}/comm").Trim() is "Xtigervnc" or "twm" or "xterm")
                {
                    desktop.Add(pid);
                }
            }
            catch (IOException)
            {
                // It exited meanwhile.
            }
        }

        var server = serverPid.ToString(CultureInfo.InvariantCulture);
        return desktop.Where(pid =>
        {
            for (var p = pid; parents.TryGetValue(p, out var parent) && p != "1"; p = parent)
            {
                if (parent == server)
                {
                    return true;
                }
            }

            return false;
        }).ToList();
    }

    private static long Field(string path, string field)
    {
        try
        {
            var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long MemInfo(string field) =>
        long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static int Count(string[] args, string name, int fallback) =>
        UploadBenchmark.Option(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
    }

    private static string Summary(List<double> values) =>
        $"median {Median(values):F2} ms, p90 {Percentile(values, 0.9):F2} ms, p99 {Percentile(values, 0.99):F2} ms, min {values.Min():F2} ms, max {values.Max():F2} ms";

    /// <summary>What every desktop session of the run needs: the server, its certificate, the signed-in tokens and the terms' version.</summary>
    private sealed class BenchSession(Uri baseUrl, string fingerprint, string directory, string dataDirectory)
    {
        public string TermsVersion { get; set; } = "";

        public async Task<string> LoginAsync(string spe, string username)
        {
            var config = Path.Combine(directory, "config-" + username);
            await UploadBenchmark.LoginAsync(spe, dataDirectory, baseUrl, fingerprint, username, config);
            return UploadBenchmark.AccessToken(config);
        }

        /// <summary>Connects the desktop WebSocket with a bearer token, shakes hands and reads one full frame; returns the client and the time it took.</summary>
        public async Task<(BenchRfbClient Client, double Seconds)> OpenDesktopAsync(string token, string project)
        {
            using var timeout = new CancellationTokenSource(Deadline);
            var clock = Stopwatch.StartNew();
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol(DesktopProtocol.Subprotocol);
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            socket.Options.SetRequestHeader(DesktopProtocol.TermsHeader, TermsVersion);
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && string.Equals(Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())), fingerprint, StringComparison.OrdinalIgnoreCase);
            await socket.ConnectAsync(new UriBuilder(baseUrl) { Scheme = "wss", Path = $"/api/v1/projects/{project}/desktop" }.Uri, timeout.Token);
            var client = new BenchRfbClient(WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: true), () => $"{socket.State}, close status {socket.CloseStatus} {socket.CloseStatusDescription}");
            await client.HandshakeAsync(timeout.Token);
            await client.RequestFrameAsync(timeout.Token);
            return (client, clock.Elapsed.TotalSeconds);
        }
    }
}
