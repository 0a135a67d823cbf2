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
        await File.WriteAllTextAsync(work.File("audit.pub"), (await SpeProcess.RunAsync("audit", "public-key", "--data-dir", data)).Stdout);
        var pinned = await SpeProcess.RunAsync("backup", "verify", work.File("backup"), "--sk", work.File("backup.sec"), "--public-key", work.File("audit.pub"));
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
        // Without --public-key the signature was checked with the key the backup carries, and each verb says what that is worth;
        // the secret key keygen wrote is its owner's alone, so nothing is said about it.
        Assert.Equal(KeyFromBackupWarning("verify"), verify.Stderr.ReplaceLineEndings("\n"));
        Assert.Equal(KeyFromBackupWarning("restore"), restore.Stderr.ReplaceLineEndings("\n"));
        Assert.True(pinned.ExitCode == 0, pinned.Stderr);
        Assert.Empty(pinned.Stderr);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("spe backup restore: ", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("not empty", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains($"({Path.Combine("pieces", Path.GetFileName(piece))})", tampered.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-27")]
    public async Task A_backup_secret_key_others_can_read_is_warned_about_and_a_backup_signed_by_another_audit_key_is_refused_with_public_key()
    {
        await using var server = await SpeTestServer.StartAsync();
        await using var other = await SpeTestServer.StartAsync();
        using var work = new TempDirectory();
        var data = Path.Combine(server.DataDirectory, "data");
        var keygen = await SpeProcess.RunAsync("crypt4gh", "keygen", "--sk", work.File("backup.sec"), "--pk", work.File("backup.pub"), "--nocrypt");
        // A backup of another SPE, encrypted to the same (public) backup key: what someone who can write the backup directory could leave there.
        var forged = await SpeProcess.RunAsync("backup", "create", "--data-dir", Path.Combine(other.DataDirectory, "data"), "--out", work.File("forged"),
            "--recipient-pk", work.File("backup.pub"));
        await File.WriteAllTextAsync(work.File("audit.pub"), (await SpeProcess.RunAsync("audit", "public-key", "--data-dir", data)).Stdout);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(work.File("backup.sec"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        var trusting = await SpeProcess.RunAsync("backup", "restore", work.File("forged"), "--sk", work.File("backup.sec"), "--data-dir", work.File("trusting"));
        var refused = await SpeProcess.RunAsync("backup", "verify", work.File("forged"), "--sk", work.File("backup.sec"), "--public-key", work.File("audit.pub"));

        Assert.Equal(0, keygen.ExitCode);
        Assert.True(forged.ExitCode == 0, forged.Stderr);
        // Without --public-key the forged backup restores, and the warning is the operator's only hint.
        Assert.True(trusting.ExitCode == 0, trusting.Stderr);
        Assert.EndsWith(KeyFromBackupWarning("restore"), trusting.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(1, refused.ExitCode);
        Assert.DoesNotContain("warning: the manifest", refused.Stderr, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            foreach (var (result, verb) in new[] { (trusting, "restore"), (refused, "verify") })
            {
                Assert.StartsWith($"spe backup {verb}: warning: the secret key {work.File("backup.sec")} can be read or written by others on this machine (mode 644); "
                    + $"keep it readable by its owner only (chmod 600 {work.File("backup.sec")}).\n", result.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            }
        }
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

    private static string KeyFromBackupWarning(string verb) =>
        $"spe backup {verb}: warning: the manifest's signature was checked with the audit key inside the backup, which shows the backup is whole but not "
        + "that your SPE made it; give --public-key with the key from 'spe audit public-key' kept apart from the server.\n";

    private static Task<(int ExitCode, string Stdout, string Stderr)> Create(string data, string output, string key) =>
        SpeProcess.RunAsync("backup", "create", "--data-dir", data, "--out", output, "--recipient-pk", key);
}
