using System.Text.Json;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe backup create|verify|restore</c> through the real executable, on the data directory of a running server: the
/// round trip, a non-empty target refused, a tampered piece named, and an output inside the data directory (or around it)
/// refused as bad usage (OPR-21, OPR-27).
/// </summary>
public sealed class BackupCliTests
{
    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-27")]
    public async Task Create_verify_and_restore_work_through_spe_while_the_server_runs_and_a_tampered_piece_is_named()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var work = new TempDirectory();
        using (var client = await server.ClientAsAsync("a", "auditor"))
        {
            await client.GetAsync("/api/v1/server/info");
        }

        var data = Path.Combine(server.DataDirectory, "data");
        var keygen = await SpeProcess.RunAsync("crypt4gh", "keygen", "--sk", work.File("backup.sec"), "--pk", work.File("backup.pub"), "--nocrypt");
        var create = await SpeProcess.RunAsync("backup", "create", "--data-dir", data, "--out", work.File("backup"), "--recipient-pk", work.File("backup.pub"), "--json");
        var verify = await SpeProcess.RunAsync("backup", "verify", work.File("backup"), "--sk", work.File("backup.sec"), "--json");
        var restore = await SpeProcess.RunAsync("backup", "restore", work.File("backup"), "--sk", work.File("backup.sec"), "--data-dir", work.File("restored"));
        var again = await SpeProcess.RunAsync("backup", "restore", work.File("backup"), "--sk", work.File("backup.sec"), "--data-dir", work.File("restored"));
        var piece = Directory.EnumerateFiles(work.File("backup/pieces")).Order(StringComparer.Ordinal).Last();
        var bytes = await File.ReadAllBytesAsync(piece);
        bytes[^5] ^= 0x40;
        await File.WriteAllBytesAsync(piece, bytes);
        var tampered = await SpeProcess.RunAsync("backup", "verify", work.File("backup"), "--sk", work.File("backup.sec"));

        Assert.Equal(0, keygen.ExitCode);
        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        var report = JsonDocument.Parse(verify.Stdout).RootElement;
        Assert.True(report.GetProperty("auditValid").GetBoolean());
        Assert.Equal(200, report.GetProperty("readyStatus").GetInt32());
        Assert.Equal(report.GetProperty("pieces").GetInt32(), report.GetProperty("restored").GetInt32());
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.True(File.Exists(work.File("restored/spe.db")));
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("spe backup restore: ", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("not empty", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains($"({Path.Combine("pieces", Path.GetFileName(piece))})", tampered.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task Create_refuses_an_output_inside_the_data_directory_or_around_it_as_bad_usage_and_writes_nothing()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var work = new TempDirectory();
        var data = Path.Combine(server.DataDirectory, "data");
        var keygen = await SpeProcess.RunAsync("crypt4gh", "keygen", "--sk", work.File("backup.sec"), "--pk", work.File("backup.pub"), "--nocrypt");
        Directory.CreateSymbolicLink(work.File("to-data"), data);

        var inside = await Create(data, Path.Combine(data, "bkin"), work.File("backup.pub"));
        var same = await Create(data, data, work.File("backup.pub"));
        var around = await Create(data, server.DataDirectory, work.File("backup.pub"));
        var throughLink = await Create(data, Path.Combine(work.File("to-data"), "bkin"), work.File("backup.pub"));
        var outside = await Create(data, work.File("backup"), work.File("backup.pub"));

        Assert.Equal(0, keygen.ExitCode);
        foreach (var (refused, relation) in new[] { (inside, "is inside"), (same, "is"), (around, "contains"), (throughLink, "is inside") })
        {
            Assert.Equal((2, ""), (refused.ExitCode, refused.Stdout));
            Assert.StartsWith("spe backup create: --out ", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains($" {relation} the data directory {data}; a backup must go outside the data directory", refused.Stderr, StringComparison.Ordinal);
        }

        // Nothing written: no backup directory, no piece, no work folder in the data directory or around it.
        foreach (var directory in new[] { data, server.DataDirectory })
        {
            Assert.DoesNotContain(Directory.GetFileSystemEntries(directory).Select(Path.GetFileName),
                name => name is "bkin" or "pieces" or "FORMAT" or "manifest.c4gh" || name!.StartsWith("backup-work-", StringComparison.Ordinal));
        }

        Assert.True(outside.ExitCode == 0, outside.Stderr);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> Create(string data, string output, string key) =>
        SpeProcess.RunAsync("backup", "create", "--data-dir", data, "--out", output, "--recipient-pk", key);
}
