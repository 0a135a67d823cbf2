using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Bench;

/// <summary>
/// End-to-end <c>spe upload</c> of a large file over loopback HTTPS, with both sides as users run them: the server is
/// <c>dotnet spe.dll server --dev</c> in a temp data directory (SQLite, TLS, the real tus endpoints and ingest verification),
/// and the client is <c>dotnet spe.dll upload</c>, signed in with <c>spe login</c> as the dev data holder of a permit the dev
/// HDAB issued for the run. Reports wall time and throughput (file size / wall time of the CLI, which includes its start-up,
/// the client-side Crypt4GH encryption and hashing, the upload, and the server's verification before its last answer), the
/// peak RSS (VmHWM) of each process, the server's RSS by kind, and both processes' CPU time.
/// Target: ≥ 400 MB/s, each peak RSS &lt; 200 MB.
/// </summary>
internal static class UploadBenchmark
{
    private const string Dataset = "bench-ds";

    /// <summary><c>upload [--size-gib 2] [--chunk-size 64] [--warm-up-mib 64] [--spe PATH/spe.dll] [--keep] [--browser]</c>; <c>--browser</c> then uploads the same file through the browser upload page.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var sizeGiB = double.Parse(Option(args, "--size-gib") ?? "2", CultureInfo.InvariantCulture);
        var chunk = Option(args, "--chunk-size") ?? "64";
        var warmUpMiB = int.Parse(Option(args, "--warm-up-mib") ?? "64", CultureInfo.InvariantCulture);
        var spe = Option(args, "--spe") ?? FindSpe();
        if (spe is null || !File.Exists(spe))
        {
            await Console.Error.WriteLineAsync("spe.dll not found: build it with 'dotnet build -c Release src/OpenSpe.Cli' or pass --spe PATH/spe.dll");
            return 2;
        }

        var size = (long)(sizeGiB * (1L << 30));
        var directory = Path.Combine(Path.GetTempPath(), "openspe-bench", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var dataDirectory = Path.Combine(directory, "data");
        var baseUrl = new Uri($"https://127.0.0.1:{BenchPorts.Free()}/");
        using var server = StartServer(spe, dataDirectory, baseUrl, 4 * size);
        try
        {
            var fingerprint = await WaitForServerAsync(server);
            var hdabConfig = Path.Combine(directory, "config-hdab");
            var holderConfig = Path.Combine(directory, "config-holder");
            await LoginAsync(spe, dataDirectory, baseUrl, fingerprint, "hdab", hdabConfig);
            await LoginAsync(spe, dataDirectory, baseUrl, fingerprint, "holder", holderConfig);
            var project = await IssuePermitAsync(baseUrl, fingerprint, AccessToken(hdabConfig));
            var cache = Path.Combine(directory, "cache");
            var pid = server.Id.ToString(CultureInfo.InvariantCulture);
            Console.WriteLine($"server       dotnet {spe} server --dev, pid {pid}, {baseUrl} (server and CLI share {Environment.ProcessorCount} cores)");
            Console.WriteLine($"project      {project}, dataset {Dataset}, --chunk-size {chunk} MiB");

            if (warmUpMiB > 0)
            {
                // A server in service has long finished tiering up its code; one just started has not, and its JIT then
                // competes with the upload for the two cores. 1 MiB chunks make every per-request path run often enough.
                var warmUp = Path.Combine(directory, "warm-up.bin");
                await WriteFileAsync(warmUp, (long)warmUpMiB << 20);
                var warm = await RunCliAsync(spe, holderConfig, cache, ["upload", "--project", project, "--dataset", Dataset, warmUp, "--chunk-size", "1", "--json"]);
                Console.WriteLine($"warm-up      {warmUpMiB} MiB uploaded in 1 MiB chunks first ({warm.Seconds:F1} s, exit code {warm.ExitCode}); --warm-up-mib 0 measures a cold server");
                File.Delete(warmUp);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var file = Path.Combine(directory, "bench.bin");
            var plaintextSha = await WriteFileAsync(file, size);
            Console.WriteLine($"file         {file}: {size:N0} bytes ({sizeGiB} GiB, in the page cache), plaintext SHA-256 {plaintextSha}");
            Console.WriteLine();

            var serverBaseline = Status(pid, "VmRSS:");
            ResetPeakRss(pid);
            var serverCpuBefore = CpuSeconds(pid);
            using var sampling = new CancellationTokenSource();
            var serverKinds = SamplePeaksAsync(pid, sampling.Token);
            var (exitCode, seconds, clientPeak, clientCpu, stdout, stderr) = await RunCliAsync(spe, holderConfig, cache,
                ["upload", "--project", project, "--dataset", Dataset, file, "--chunk-size", chunk, "--json"]);
            var serverPeak = PeakRss(pid);
            var serverCpu = CpuSeconds(pid) - serverCpuBefore;
            await sampling.CancelAsync();
            var (anonPeak, filePeak, sharedPeak) = await serverKinds;
            foreach (var line in stderr.Split('\n').Where(l => l.Contains(" in ", StringComparison.Ordinal) || l.StartsWith("spe:", StringComparison.Ordinal)))
            {
                Console.WriteLine($"cli stderr   {line.Trim()}");
            }

            if (exitCode != 0)
            {
                Console.WriteLine($"spe upload failed with exit code {exitCode}:\n{stderr}");
                return 1;
            }

            using var result = JsonDocument.Parse(stdout);
            var uploaded = result.RootElement.GetProperty("files")[0];
            var sha = uploaded.GetProperty("plaintextSha256").GetString();
            Console.WriteLine($"file id      {uploaded.GetProperty("id").GetString()} (plaintext SHA-256 {(sha == plaintextSha ? "matches" : "DIFFERS: " + sha)}), "
                + $"{uploaded.GetProperty("size").GetInt64():N0} bytes encrypted");
            Console.WriteLine($"wall time    {seconds:F2} s (CLI start to exit)");
            Console.WriteLine($"throughput   {size / seconds / 1e6:F0} MB/s ({size / seconds / (1 << 20):F0} MiB/s) of plaintext, end to end   target >= 400 MB/s");
            Console.WriteLine($"peak RSS     CLI {clientPeak / 1e6:F0} MB, server {serverPeak / 1e6:F0} MB (it was {serverBaseline / 1e6:F0} MB before the upload)   target < 200 MB each");
            Console.WriteLine($"server RSS   by kind, peak of 20 ms samples: private (RssAnon) {anonPeak / 1e6:F0} MB, files mapped (RssFile: runtime, assemblies, native libraries) "
                + $"{filePeak / 1e6:F0} MB, shared (RssShmem: the JIT's double-mapped code) {sharedPeak / 1e6:F0} MB");
            Console.WriteLine($"CPU time     CLI {clientCpu:F1} s, server {serverCpu:F1} s ({(clientCpu + serverCpu) / (size / (double)(1L << 30)):F1} CPU-s per GiB); load average {File.ReadAllText("/proc/loadavg").Trim()}");
            if (args.Contains("--browser"))
            {
                // The same bytes under another name (a copy), since a dataset holds one file per name.
                var same = Path.Combine(directory, "bench-browser.bin");
                File.Copy(file, same);
                var browser = await BrowserUploadBenchmark.RunAsync(baseUrl, project, Dataset, AccessToken(holderConfig), same);
                Console.WriteLine($"browser      {browser.Result}");
                Console.WriteLine($"browser      {browser.Seconds:F2} s click to verified: SHA-256 pass {browser.HashSeconds:F2} s, encryption and upload {browser.Seconds - browser.HashSeconds:F2} s; "
                    + $"{size / browser.Seconds / 1e6:F0} MB/s end to end against spe upload's {size / seconds / 1e6:F0} MB/s (plaintext SHA-256 {(browser.Sha256 == plaintextSha ? "matches" : "DIFFERS")})");
                return sha == plaintextSha && browser.Sha256 == plaintextSha ? 0 : 1;
            }

            return sha == plaintextSha ? 0 : 1;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

            if (!args.Contains("--keep"))
            {
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
    }

    /// <summary><c>dotnet spe.dll server --dev</c> with the upload limit raised and the rate limits out of the way.</summary>
    internal static Process StartServer(string spe, string dataDirectory, Uri baseUrl, long maxUploadBytes, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { spe, "server", "--dev", "--data-dir", dataDirectory, "--urls", baseUrl.GetLeftPart(UriPartial.Authority) })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["SPE__Uploads__MaxUploadBytes"] = maxUploadBytes.ToString(CultureInfo.InvariantCulture);
        foreach (var limit in new[] { "PerIdentityBurst", "PerIdentityPerSecond", "PerAddressBurst", "PerAddressPerSecond" })
        {
            info.Environment[$"SPE__RateLimiting__{limit}"] = "100000";
        }

        info.Environment["SPE__Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start the server");
    }

    /// <summary>Reads the server's banner until it serves; returns the certificate fingerprint it prints.</summary>
    internal static async Task<string> WaitForServerAsync(Process server, string? logPath = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string? fingerprint = null;
        while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("TLS SHA-256", StringComparison.Ordinal))
            {
                fingerprint = line["TLS SHA-256".Length..].Trim();
            }

            if (line.StartsWith("Serving on", StringComparison.Ordinal) && fingerprint is not null)
            {
                // The rest of its output must be read so the server never blocks on a full pipe; kept when asked for.
                if (logPath is null)
                {
                    _ = server.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    _ = server.StandardError.ReadToEndAsync(CancellationToken.None);
                }
                else
                {
                    var log = new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.Read, 0, FileOptions.Asynchronous);
                    _ = Task.WhenAll(server.StandardOutput.BaseStream.CopyToAsync(log), server.StandardError.BaseStream.CopyToAsync(log)).ContinueWith(_ => log.Dispose(), TaskScheduler.Default);
                }

                return fingerprint;
            }
        }

        throw new InvalidOperationException($"the server exited before serving: {await server.StandardError.ReadToEndAsync(CancellationToken.None)}");
    }

    /// <summary><c>spe login</c> as a dev account, with its password on standard input and its current TOTP code.</summary>
    internal static async Task LoginAsync(string spe, string dataDirectory, Uri baseUrl, string fingerprint, string username, string configDirectory)
    {
        using var accounts = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDirectory, DevAccounts.FileName)));
        var account = accounts.RootElement.EnumerateArray().Single(a => a.GetProperty("username").GetString() == username);
        var otp = Totp.Compute(Base32.Decode(account.GetProperty("totpSecret").GetString()!), Totp.StepAt(DateTimeOffset.UtcNow));
        var login = await RunCliAsync(spe, configDirectory, Path.Combine(configDirectory, "cache"),
            ["login", "--server", baseUrl.ToString(), "--user", username, "--password-stdin", "--otp", otp, "--ca-fingerprint", fingerprint],
            account.GetProperty("password").GetString());
        if (login.ExitCode != 0)
        {
            throw new InvalidOperationException($"spe login as {username} failed: {login.Stderr}");
        }
    }

    /// <summary>The access token <c>spe login</c> stored in <paramref name="configDirectory"/>.</summary>
    internal static string AccessToken(string configDirectory)
    {
        using var credentials = JsonDocument.Parse(File.ReadAllText(Path.Combine(configDirectory, "credentials.json")));
        return credentials.RootElement.GetProperty("accessToken").GetString()!;
    }

    /// <summary>Issues, as the dev HDAB, a permit whose dataset <see cref="Dataset"/> is held by the dev holder and allows '.bin' uploads; returns its project id.</summary>
    private static async Task<string> IssuePermitAsync(Uri baseUrl, string fingerprint, string token)
    {
        using var hdab = BenchHttp.PinnedClient(baseUrl, fingerprint, token);
        var now = DateTimeOffset.UtcNow;
        var response = await hdab.PostAsJsonAsync("/api/v1/permits", new Dictionary<string, object?>
        {
            ["reference"] = "HDAB-BENCH-UPLOAD-" + RandomNumberGenerator.GetHexString(6),
            ["title"] = "Upload benchmark",
            ["purpose"] = "scientific-research",
            ["legalBasis"] = "EHDS Article 53(1)(e)",
            ["validFrom"] = now.AddMinutes(-1),
            ["validUntil"] = now.AddDays(1),
            ["datasets"] = new[] { new { id = Dataset, title = "Benchmark data", holder = "holder" } },
            ["dataUsers"] = new[] { new { account = "researcher" } },
            ["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", airlock = new { reviewersRequired = 2 }, fileTypes = new { upload = new[] { "bin" } } },
        });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"issuing the benchmark permit failed: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!;
    }

    /// <summary>Writes <paramref name="size"/> pseudo-random bytes with constant memory; returns their SHA-256.</summary>
    internal static async Task<string> WriteFileAsync(string path, long size)
    {
        var block = new byte[4 << 20];
        RandomNumberGenerator.Fill(block);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        for (long written = 0, n = 0; written < size; n++)
        {
            // Every block differs (its first 8 bytes count up), so no two segments encrypt the same plaintext.
            BitConverter.TryWriteBytes(block, n);
            var count = (int)Math.Min(block.Length, size - written);
            await output.WriteAsync(block.AsMemory(0, count));
            hash.AppendData(block, 0, count);
            written += count;
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Runs <c>dotnet spe.dll ARGS</c>, sampling its VmHWM and CPU time every 20 ms (the last sample before exit is its peak and nearly all its CPU).</summary>
    private static async Task<(int ExitCode, double Seconds, long PeakRss, double CpuSeconds, string Stdout, string Stderr)> RunCliAsync(string spe, string configDirectory, string cacheDirectory, string[] args, string? input = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(spe);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["SPE_CONFIG_DIR"] = configDirectory;
        info.Environment["SPE_CACHE_DIR"] = cacheDirectory;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        if (input is not null)
        {
            await process.StandardInput.WriteLineAsync(input);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peak = 0;
        double cpu = 0;
        var pid = process.Id.ToString(CultureInfo.InvariantCulture);
        while (!process.HasExited)
        {
            peak = Math.Max(peak, PeakRss(pid));
            cpu = Math.Max(cpu, CpuSeconds(pid));
            await Task.Delay(20);
        }

        await process.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        return (process.ExitCode, seconds, peak, cpu, await stdout, await stderr);
    }

    /// <summary>The peaks of process <paramref name="pid"/>'s RssAnon, RssFile and RssShmem, sampled every 20 ms until cancelled.</summary>
    private static async Task<(long Anon, long File, long Shared)> SamplePeaksAsync(string pid, CancellationToken cancellationToken)
    {
        long anon = 0, file = 0, shared = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var status = ReadStatus(pid);
            anon = Math.Max(anon, Field(status, "RssAnon:"));
            file = Math.Max(file, Field(status, "RssFile:"));
            shared = Math.Max(shared, Field(status, "RssShmem:"));
            try
            {
                await Task.Delay(20, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (anon, file, shared);
    }

    /// <summary>utime + stime of /proc/<paramref name="pid"/>/stat in seconds (0 once the process is gone).</summary>
    internal static double CpuSeconds(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>VmHWM of /proc/<paramref name="pid"/>/status in bytes (0 once the process is gone).</summary>
    internal static long PeakRss(string pid) => Status(pid, "VmHWM:");

    internal static long Status(string pid, string field) => Field(ReadStatus(pid), field);

    /// <summary>The lines of /proc/<paramref name="pid"/>/status (none once the process is gone).</summary>
    private static string[] ReadStatus(string pid)
    {
        try
        {
            return File.ReadAllLines($"/proc/{pid}/status");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>A "Name: N kB" field of a status file in bytes (0 when absent).</summary>
    private static long Field(string[] status, string field) =>
        status.FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal)) is { } line
            ? long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024
            : 0;

    /// <summary>Resets the server's VmHWM to its current RSS (Linux: write 5 to clear_refs), so its peak is the upload's.</summary>
    internal static void ResetPeakRss(string pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine("note         cannot reset VmHWM; the server's peak includes set-up");
        }
    }

    /// <summary>src/OpenSpe.Cli/bin/{Release,Debug}/net10.0/spe.dll of the repository this benchmark runs from.</summary>
    internal static string? FindSpe()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenSpe.slnx")))
            {
                return new[] { "Release", "Debug" }.Select(c => Path.Combine(dir.FullName, "src", "OpenSpe.Cli", "bin", c, "net10.0", "spe.dll")).FirstOrDefault(File.Exists);
            }
        }

        return null;
    }

    internal static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
