using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OpenSpe.Bench;

/// <summary>
/// One large import request (<c>POST /api/v1/projects/{id}/imports</c>, multipart, what the portal's import page relays) on
/// <c>spe server --dev</c>: a CSV of the size asked, judged as text on every byte, hashed and frozen encrypted. Reports the
/// request's wall time (against the portal backchannel's deadline for that size) and the server's peak RSS above its
/// baseline, which shows whether the file was held whole in memory.
/// </summary>
internal static class ImportBenchmark
{
    /// <summary><c>import [--size-mib 200] [--spe PATH/spe.dll]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMiB = int.Parse(UploadBenchmark.Option(args, "--size-mib") ?? "200", CultureInfo.InvariantCulture);
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
        var size = (long)sizeMiB << 20;
        using var server = UploadBenchmark.StartServer(spe, dataDirectory, baseUrl, size, new Dictionary<string, string>
        {
            ["SPE__Airlock__MaxFileBytes"] = (size + (1 << 20)).ToString(CultureInfo.InvariantCulture),
            ["SPE__Airlock__MaxImportRequestBytes"] = (size + (1 << 20)).ToString(CultureInfo.InvariantCulture),
        });
        try
        {
            var fingerprint = await UploadBenchmark.WaitForServerAsync(server);
            var hdabConfig = Path.Combine(directory, "config-hdab");
            var researcherConfig = Path.Combine(directory, "config-researcher");
            await UploadBenchmark.LoginAsync(spe, dataDirectory, baseUrl, fingerprint, "hdab", hdabConfig);
            await UploadBenchmark.LoginAsync(spe, dataDirectory, baseUrl, fingerprint, "researcher", researcherConfig);
            var project = await IssuePermitAsync(baseUrl, fingerprint, UploadBenchmark.AccessToken(hdabConfig));
            var file = Path.Combine(directory, "import.csv");
            await WriteCsvAsync(file, size);
            using var researcher = BenchHttp.PinnedClient(baseUrl, fingerprint, UploadBenchmark.AccessToken(researcherConfig));
            researcher.Timeout = Timeout.InfiniteTimeSpan;

            // A small import first, so the request's code paths are compiled before the measured one.
            var warm = Path.Combine(directory, "warm.csv");
            await WriteCsvAsync(warm, 1 << 20);
            await ImportAsync(researcher, project, warm);

            var pid = server.Id.ToString(CultureInfo.InvariantCulture);
            var baseline = UploadBenchmark.Status(pid, "VmRSS:");
            UploadBenchmark.ResetPeakRss(pid);
            var cpuBefore = UploadBenchmark.CpuSeconds(pid);
            var clock = Stopwatch.StartNew();
            var (status, body) = await ImportAsync(researcher, project, file);
            var seconds = clock.Elapsed.TotalSeconds;
            var peak = UploadBenchmark.PeakRss(pid);
            var cpu = UploadBenchmark.CpuSeconds(pid) - cpuBefore;
            Console.WriteLine($"import       {sizeMiB} MiB CSV, one file, project {project}: {status}");
            if (status != 201)
            {
                Console.WriteLine(body);
                return 1;
            }

            var deadline = 60 + ((double)size / (4L << 20));
            Console.WriteLine($"wall time    {seconds:F2} s (request sent to answer: spooled, judged as text, hashed, encrypted, stored); {size / seconds / 1e6:F0} MB/s");
            Console.WriteLine($"deadline     the portal backchannel would wait {deadline:F0} s for this body (60 s + size at 4 MiB/s)");
            Console.WriteLine($"server RSS   peak {peak / 1e6:F0} MB, baseline {baseline / 1e6:F0} MB: {(peak - baseline) / 1e6:F0} MB more for a {size / 1e6:F0} MB file");
            Console.WriteLine($"server CPU   {cpu:F1} s ({cpu / (size / (double)(1L << 30)):F1} CPU-s per GiB); load average {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

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

    private static async Task<(int Status, string Body)> ImportAsync(HttpClient researcher, string project, string path)
    {
        using var form = new MultipartFormDataContent { { new StringContent("benchmark"), "reason" } };
        var content = new StreamContent(File.OpenRead(path));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(content, "files", Path.GetFileName(path));
        using var response = await researcher.PostAsync(new Uri($"/api/v1/projects/{project}/imports", UriKind.Relative), form);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Issues, as the dev HDAB, a permit with the dev researcher as data user and '.csv' imports allowed; returns its project id.</summary>
    private static async Task<string> IssuePermitAsync(Uri baseUrl, string fingerprint, string token)
    {
        using var hdab = BenchHttp.PinnedClient(baseUrl, fingerprint, token);
        var now = DateTimeOffset.UtcNow;
        var response = await hdab.PostAsJsonAsync("/api/v1/permits", new Dictionary<string, object?>
        {
            ["reference"] = "HDAB-BENCH-IMPORT-" + RandomNumberGenerator.GetHexString(6),
            ["title"] = "Import benchmark",
            ["purpose"] = "scientific-research",
            ["legalBasis"] = "EHDS Article 53(1)(e)",
            ["validFrom"] = now.AddMinutes(-1),
            ["validUntil"] = now.AddDays(1),
            ["datasets"] = new[] { new { id = "bench-ds", title = "Benchmark data", holder = "holder" } },
            ["dataUsers"] = new[] { new { account = "researcher" } },
            ["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", airlock = new { reviewersRequired = 2 }, fileTypes = new { import = new[] { "csv" } } },
        });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"issuing the benchmark permit failed: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!;
    }

    /// <summary>Writes a CSV of at most <paramref name="size"/> bytes (ASCII and a little UTF-8), so every byte is judged as text.</summary>
    private static async Task WriteCsvAsync(string path, long size)
    {
        var row = Encoding.UTF8.GetBytes("12345,Åland,0.25,2026-12-05\n");
        var block = new byte[1 << 20];
        for (var i = 0; i + row.Length <= block.Length; i += row.Length)
        {
            row.CopyTo(block, i);
        }

        var usable = block.Length - (block.Length % row.Length);
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        for (long written = 0; written < size;)
        {
            // Whole rows only, so the last one never ends inside a character (which would make the file binary).
            var count = (int)Math.Min(usable, size - written);
            count -= count % row.Length;
            if (count == 0)
            {
                break;
            }

            await output.WriteAsync(block.AsMemory(0, count));
            written += count;
        }
    }
}
