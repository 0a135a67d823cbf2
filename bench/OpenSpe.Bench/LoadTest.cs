using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Bench;

/// <summary>
/// Starts a real SPE server in this process (dev mode, temp data directory, SQLite, TLS, every
/// request audited durably) and drives <c>GET /api/v1/server/info</c> with an open-loop load
/// generator: requests are scheduled at a fixed rate and latency is measured from the scheduled
/// start, so a slow answer delays no later request's clock (no coordinated omission). Then runs
/// wrk (closed loop) for comparison when it is installed. Target: p99 below 10 ms at 500 requests/s.
/// </summary>
internal static class LoadTest
{
    private const string Path = "/api/v1/server/info";

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Option(args, "--rate", 500);
        var seconds = Option(args, "--seconds", 20);
        var connections = Option(args, "--connections", 32);
        var runWrk = !args.Contains("--no-wrk");
        // Note: --no-monitoring is the "before" of the monitoring cost: no metrics exporter, no /metrics, and every
        // shipped alert rule switched off; without it /metrics is also scraped once a second during the open-loop run.
        var monitoring = !args.Contains("--no-monitoring");
        var scrape = monitoring && !args.Contains("--no-scrape");
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "openspe-bench", Guid.NewGuid().ToString("N")[..12]);
        var settings = new Dictionary<string, string?>
        {
            ["Server:Dev"] = "true",
            ["Server:DataDirectory"] = directory,
            // A fixed port: the token issuer URL is derived from it.
            ["Server:Urls"] = $"https://127.0.0.1:{BenchPorts.Free()}",
            ["RateLimiting:PerIdentityBurst"] = "100000",
            ["RateLimiting:PerIdentityPerSecond"] = "100000",
            ["RateLimiting:PerAddressBurst"] = "100000",
            ["RateLimiting:PerAddressPerSecond"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            ["Metrics:Enabled"] = monitoring ? "true" : "false",
        };
        if (!monitoring)
        {
            settings["Alerts:Defaults"] = "false";
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        try
        {
            var app = SpeHost.Build(configuration);
            await using (app)
            {
                var info = await SpeHost.StartAsync(app);
                var baseUrl = new Uri(info.Urls[0]);
                var token = await DevTokenAsync(app, "auditor");
                var operatorToken = await DevTokenAsync(app, "operator");

                Console.WriteLine($"server       {baseUrl} (in this process: server and load generator share {Environment.ProcessorCount} cores)");
                Console.WriteLine($"fingerprint  {info.CertificateFingerprint}");
                Console.WriteLine($"database     {info.Database}");
                Console.WriteLine($"token        {token}");
                Console.WriteLine();

                using var client = BenchHttp.PinnedClient(baseUrl, info.CertificateFingerprint, token, connections);
                await WarmUpAsync(client, connections);

                var writer = app.Services.GetRequiredService<AuditWriter>();
                var (recordsBefore, commitsBefore) = (writer.HeadSequence, writer.CommitCount);
                var (gen0, gen1, gen2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
                using var scraper = BenchHttp.PinnedClient(baseUrl, info.CertificateFingerprint, operatorToken, 1);
                using var stopScraping = new CancellationTokenSource();
                var scrapes = scrape ? ScrapeAsync(scraper, stopScraping.Token) : Task.FromResult((0, 0L));
                var result = await OpenLoopAsync(client, rate, seconds);
                await stopScraping.CancelAsync();
                var (scraped, scrapedBytes) = await scrapes;
                Print(result, rate, seconds, connections);
                Console.WriteLine(monitoring
                    ? $"monitoring   on: exporter and shipped alert rules; /metrics scraped {scraped} times ({scrapedBytes / Math.Max(1, scraped)} bytes each)"
                    : "monitoring   off (--no-monitoring): no exporter, no alert rules");
                Console.WriteLine(
                    $"gc           {GC.CollectionCount(0) - gen0} gen0, {GC.CollectionCount(1) - gen1} gen1, {GC.CollectionCount(2) - gen2} gen2; " +
                    $"paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F1} ms in all ({(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC)");
                var records = writer.HeadSequence - recordsBefore;
                var commits = writer.CommitCount - commitsBefore;
                Console.WriteLine($"audit        {records} records in {commits} durable commits ({(double)records / Math.Max(1, commits):F2} records/commit)");
                Console.WriteLine();

                if (runWrk)
                {
                    await RunWrkAsync(baseUrl, token, seconds, connections, rate);
                    await RunWrkAsync(baseUrl, token, seconds, connections, rate: null);
                }

                await app.StopAsync();
                return result.Errors == 0 ? 0 : 1;
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    private static async Task<string> DevTokenAsync(Microsoft.AspNetCore.Builder.WebApplication app, string username)
    {
        await using var scope = app.Services.CreateAsyncScope();
        // The dev account's real subject and stamp: session validation refuses tokens of accounts that do not exist.
        var account = (await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>().FindByNameAsync(username))!;
        return app.Services.GetRequiredService<AccessTokenIssuer>()
            .Issue(new TokenSubject(account.Id, username, [username], ["pwd", "otp"], Stamp: AccountStateCache.StampOf(account)));
    }

    /// <summary>Scrapes <c>/metrics</c> once a second (a demanding Prometheus) until cancelled; returns the count and bytes.</summary>
    private static async Task<(int Count, long Bytes)> ScrapeAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var (count, bytes) = (0, 0L);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);
                (count, bytes) = (count + 1, bytes + text.Length);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return (count, bytes);
    }

    private static async Task WarmUpAsync(HttpClient client, int connections)
    {
        // Opens every connection of the pool (TLS handshakes) and JIT-compiles both ends.
        for (var round = 0; round < 20; round++)
        {
            var batch = Enumerable.Range(0, connections).Select(async _ =>
            {
                using var response = await client.GetAsync(Path);
                response.EnsureSuccessStatusCode();
            });
            await Task.WhenAll(batch);
        }
    }

    private sealed record LoadResult(long[] FromSchedule, long[] FromSend, int Errors, Dictionary<string, int> ErrorKinds, TimeSpan Elapsed);

    private static async Task<LoadResult> OpenLoopAsync(HttpClient client, int rate, int seconds)
    {
        var total = rate * seconds;
        var fromSchedule = new long[total];
        var fromSend = new long[total];
        var errors = 0;
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        var tasks = new Task[total];
        var period = Stopwatch.Frequency / (double)rate;
        var start = Stopwatch.GetTimestamp();

        async Task SendAsync(int i, long due)
        {
            var sent = Stopwatch.GetTimestamp();
            string? error = null;
            try
            {
                using var response = await client.GetAsync(Path, HttpCompletionOption.ResponseContentRead);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    error = "http " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                error = ex.GetType().Name;
            }

            var end = Stopwatch.GetTimestamp();
            fromSchedule[i] = end - due;
            fromSend[i] = end - sent;
            if (error is not null)
            {
                Interlocked.Increment(ref errors);
                lock (kinds)
                {
                    kinds[error] = kinds.GetValueOrDefault(error) + 1;
                }
            }
        }

        // The dispatcher sends every request whose time has come, then sleeps ~1 ms; it never
        // waits for answers. Dispatch lag is counted in the latency (it starts at the scheduled time).
        var dispatcher = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)(i * period);
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.Sleep(1);
                }

                var index = i;
                tasks[i] = Task.Run(() => SendAsync(index, due));
            }
        })
        { IsBackground = true, Name = "load-dispatcher", Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        await Task.Run(dispatcher.Join);
        await Task.WhenAll(tasks);
        return new LoadResult(fromSchedule, fromSend, errors, kinds, Stopwatch.GetElapsedTime(start));
    }

    private static void Print(LoadResult result, int rate, int seconds, int connections)
    {
        Console.WriteLine($"open loop    {rate} requests/s for {seconds} s over at most {connections} HTTP/1.1 keep-alive connections, GET {Path}");
        Console.WriteLine($"requests     {result.FromSchedule.Length} in {result.Elapsed.TotalSeconds:F2} s ({result.FromSchedule.Length / result.Elapsed.TotalSeconds:F1}/s achieved), errors {result.Errors}"
            + (result.ErrorKinds.Count > 0 ? " (" + string.Join(", ", result.ErrorKinds.Select(k => $"{k.Key}: {k.Value}")) + ")" : ""));
        Console.WriteLine("latency (ms)     p50      p90      p99    p99.9      max");
        Console.WriteLine("from schedule " + Percentiles(result.FromSchedule));
        Console.WriteLine("from send     " + Percentiles(result.FromSend));
    }

    private static string Percentiles(long[] ticks)
    {
        var sorted = ticks.Order().ToArray();
        double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
        double At(double q) => Ms(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)]);
        return string.Create(CultureInfo.InvariantCulture, $"{At(0.50),8:F2} {At(0.90),8:F2} {At(0.99),8:F2} {At(0.999),8:F2} {Ms(sorted[^1]),8:F2}");
    }

    /// <summary>
    /// Runs wrk from a separate process. With <paramref name="rate"/>, each connection waits a
    /// random time averaging connections/rate seconds after every answer (wrk's Lua <c>delay</c>
    /// hook), which paces the load near that rate; wrk times each request from its send (so, unlike
    /// the open loop above, a stall delays the requests behind it unseen). Without it, closed loop.
    /// </summary>
    private static async Task RunWrkAsync(Uri baseUrl, string token, int seconds, int connections, int? rate)
    {
        var start = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var script = rate is { } r ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"openspe-wrk-{Guid.NewGuid():N}.lua") : null;
        var arguments = new List<string> { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency", "-H", $"Authorization: Bearer {token}" };
        if (script is not null)
        {
            // Note: a random wait (uniform, mean connections/rate) keeps the connections out of step;
            // a fixed one makes all of them fire together and measures a burst, not a rate.
            var meanMs = connections * 1000 / rate!.Value;
            await File.WriteAllTextAsync(script, $"function init(args)\n  math.randomseed(os.time() + math.floor(os.clock() * 1000000))\nend\nfunction delay()\n  return math.random(0, {2 * meanMs})\nend\n");
            arguments.AddRange(["-s", script]);
        }

        arguments.Add(new Uri(baseUrl, Path).ToString());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var mode = rate is null ? "closed loop" : $"paced near {rate} requests/s";
        Console.WriteLine($"wrk ({mode}) {string.Join(' ', arguments.Select(a => a.StartsWith("Authorization", StringComparison.Ordinal) ? "'Authorization: Bearer <token>'" : a))}");
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Console.WriteLine(await output);
            Console.Error.Write(await error);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("wrk is not installed (apt-get install -y wrk); skipped.");
        }
        finally
        {
            if (script is not null)
            {
                File.Delete(script);
            }
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : fallback;
    }
}
