using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Bench;

/// <summary>
/// End-to-end <c>spe upload</c> of a large file over loopback HTTPS: a real SPE server in this process (dev mode, temp data
/// directory, SQLite, TLS, the real tus endpoints and ingest verification) and the real <c>spe</c> CLI as a child process,
/// signed in as the dev data holder of a permit issued for the run. Reports wall time and throughput (file size / wall time
/// of the CLI, which includes its start-up, the client-side Crypt4GH encryption and hashing, the upload, and the server's
/// verification of the whole file before its last answer), and the peak RSS (VmHWM) of the CLI and of this process (the
/// server; its peak is reset just before the upload). Target: ≥ 400 MB/s, each peak RSS &lt; 200 MB.
/// </summary>
internal static class UploadBenchmark
{
    private const string Dataset = "bench-ds";

    /// <summary><c>upload [--size-gib 2] [--chunk-size 64] [--warm-up-mib 64] [--spe PATH/spe.dll] [--keep]</c>.</summary>
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
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:Dev"] = "true",
            ["Server:DataDirectory"] = Path.Combine(directory, "data"),
            ["Server:Urls"] = $"https://127.0.0.1:{BenchPorts.Free()}",
            ["Uploads:MaxUploadBytes"] = (4 * size).ToString(CultureInfo.InvariantCulture),
            ["RateLimiting:PerIdentityBurst"] = "100000",
            ["RateLimiting:PerIdentityPerSecond"] = "100000",
            ["RateLimiting:PerAddressBurst"] = "100000",
            ["RateLimiting:PerAddressPerSecond"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        }).Build();

        try
        {
            var app = SpeHost.Build(configuration);
            await using (app)
            {
                var info = await SpeHost.StartAsync(app);
                var baseUrl = new Uri(info.Urls[0]);
                var project = await IssuePermitAsync(app.Services, baseUrl, info.CertificateFingerprint);
                var holderToken = await TokenForAsync(app.Services, "holder");
                var configDirectory = Path.Combine(directory, "config");
                WriteCredentials(configDirectory, baseUrl, info.CertificateFingerprint, holderToken);

                if (warmUpMiB > 0)
                {
                    // A server in service has long finished tiering up its code; one just started has not, and its JIT then
                    // competes with the upload for the two cores. 1 MiB chunks make every per-request path run often enough.
                    var warmUp = Path.Combine(directory, "warm-up.bin");
                    await WriteFileAsync(warmUp, (long)warmUpMiB << 20);
                    var warm = await RunCliAsync(spe, configDirectory, Path.Combine(directory, "cache"),
                        ["upload", "--project", project, "--dataset", Dataset, warmUp, "--chunk-size", "1", "--json"]);
                    Console.WriteLine($"warm-up      {warmUpMiB} MiB uploaded in 1 MiB chunks first ({warm.Seconds:F1} s, exit code {warm.ExitCode}); --warm-up-mib 0 measures a cold server");
                    File.Delete(warmUp);
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }

                var file = Path.Combine(directory, "bench.bin");
                var plaintextSha = await WriteFileAsync(file, size);
                Console.WriteLine($"server       {baseUrl} (in this process; server and CLI share {Environment.ProcessorCount} cores)");
                Console.WriteLine($"cli          dotnet {spe}");
                Console.WriteLine($"file         {file}: {size:N0} bytes ({sizeGiB} GiB, in the page cache), plaintext SHA-256 {plaintextSha}");
                Console.WriteLine($"project      {project}, dataset {Dataset}, --chunk-size {chunk} MiB");
                Console.WriteLine();

                var serverBaseline = Rss("self");
                ResetPeakRss();
                var self = Process.GetCurrentProcess();
                var serverCpuBefore = self.TotalProcessorTime;
                using var sampling = new CancellationTokenSource();
                var serverKinds = SamplePeaksAsync(sampling.Token);
                var (exitCode, seconds, clientPeak, clientCpu, stdout, stderr) = await RunCliAsync(spe, configDirectory, Path.Combine(directory, "cache"),
                    ["upload", "--project", project, "--dataset", Dataset, file, "--chunk-size", chunk, "--json"]);
                var serverPeak = PeakRss("self");
                await sampling.CancelAsync();
                var (anonPeak, filePeak, sharedPeak) = await serverKinds;
                self.Refresh();
                var serverCpu = (self.TotalProcessorTime - serverCpuBefore).TotalSeconds;
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
                Console.WriteLine($"peak RSS     CLI {clientPeak / 1e6:F0} MB, server process {serverPeak / 1e6:F0} MB (it was {serverBaseline / 1e6:F0} MB idle before the upload)   target < 200 MB each");
                Console.WriteLine($"server RSS   by kind, peak of 20 ms samples: private (RssAnon) {anonPeak / 1e6:F0} MB, files mapped (RssFile: runtime, assemblies, native libraries) "
                    + $"{filePeak / 1e6:F0} MB, shared (RssShmem: the JIT's double-mapped code) {sharedPeak / 1e6:F0} MB");
                Console.WriteLine($"CPU time     CLI {clientCpu:F1} s, server process {serverCpu:F1} s ({(clientCpu + serverCpu) / (size / (double)(1L << 30)):F1} CPU-s per GiB); load average {File.ReadAllText("/proc/loadavg").Trim()}");
                await app.StopAsync();
                return sha == plaintextSha ? 0 : 1;
            }
        }
        finally
        {
            if (!args.Contains("--keep"))
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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

    /// <summary>Issues, as the dev HDAB, a permit whose dataset <see cref="Dataset"/> is held by the dev holder and allows '.bin' uploads; returns its project id.</summary>
    private static async Task<string> IssuePermitAsync(IServiceProvider services, Uri baseUrl, string fingerprint)
    {
        using var hdab = Client(baseUrl, fingerprint, await TokenForAsync(services, "hdab"));
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

    private static async Task<string> TokenForAsync(IServiceProvider services, string username)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var user = await users.FindByNameAsync(username) ?? throw new InvalidOperationException($"no dev account {username}");
        var roles = await users.GetRolesAsync(user);
        return services.GetRequiredService<AccessTokenIssuer>().Issue(new TokenSubject(user.Id, username, [.. roles], ["pwd", "otp"]));
    }

    private static HttpClient Client(Uri baseUrl, string fingerprint, string token)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && string.Equals(Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())), fingerprint, StringComparison.OrdinalIgnoreCase);
        var client = new HttpClient(handler) { BaseAddress = baseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>The session <c>spe login</c> would have stored for the holder (credentials.json, 0600, in a 0700 directory).</summary>
    private static void WriteCredentials(string configDirectory, Uri baseUrl, string fingerprint, string token)
    {
        Directory.CreateDirectory(configDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Path.Combine(configDirectory, "credentials.json");
        var json = JsonSerializer.Serialize(new
        {
            server = new Uri(baseUrl, "/").ToString(),
            caFingerprint = fingerprint,
            username = "holder",
            accessToken = token,
            accessTokenExpiresAt = DateTimeOffset.UtcNow.AddMinutes(9),
            refreshToken = (string?)null,
        });
        File.WriteAllText(path, json);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Writes <paramref name="size"/> pseudo-random bytes with constant memory; returns their SHA-256.</summary>
    private static async Task<string> WriteFileAsync(string path, long size)
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
    private static async Task<(int ExitCode, double Seconds, long PeakRss, double CpuSeconds, string Stdout, string Stderr)> RunCliAsync(string spe, string configDirectory, string cacheDirectory, string[] args)
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

    /// <summary>The peaks of this process's RssAnon, RssFile and RssShmem, sampled every 20 ms until cancelled.</summary>
    private static async Task<(long Anon, long File, long Shared)> SamplePeaksAsync(CancellationToken cancellationToken)
    {
        long anon = 0, file = 0, shared = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            anon = Math.Max(anon, Status("self", "RssAnon:"));
            file = Math.Max(file, Status("self", "RssFile:"));
            shared = Math.Max(shared, Status("self", "RssShmem:"));
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
    private static double CpuSeconds(string pid)
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
    private static long PeakRss(string pid) => Status(pid, "VmHWM:");

    private static long Rss(string pid) => Status(pid, "VmRSS:");

    private static long Status(string pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Resets this process's VmHWM to its current RSS (Linux: write 5 to clear_refs), so the server's peak is the upload's.</summary>
    private static void ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine("note         cannot reset VmHWM; the server's peak includes set-up");
        }
    }

    /// <summary>src/OpenSpe.Cli/bin/{Release,Debug}/net10.0/spe.dll of the repository this benchmark runs from.</summary>
    private static string? FindSpe()
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

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
