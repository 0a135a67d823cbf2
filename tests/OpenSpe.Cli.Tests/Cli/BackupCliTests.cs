using System.Text.Json;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe backup create|verify|restore</c> through the real executable, on the data directory of a running server: the
/// round trip, a non-empty target refused, and a tampered piece named (OPR-21, OPR-27).
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
}
