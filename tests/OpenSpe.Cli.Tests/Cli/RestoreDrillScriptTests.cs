using System.Diagnostics;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// The shipped scheduled restore drill (<c>deploy/restore-drill/spe-restore-drill.sh</c>, run by its systemd timer where the
/// backup secret key is kept): it drills the newest complete backup with <c>spe backup verify … --record</c> and passes the
/// drill's exit status on. Most cases put a recording stand-in in place of <c>spe</c>, because the drill itself (restore,
/// checks, the recorded evidence) is tested with the real command in <c>BackupCliTests</c> and
/// <c>OperationsCliRealServerTests</c>; one case runs the real <c>spe</c> to show the arguments the script builds parse.
/// </summary>
public sealed class RestoreDrillScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(RepositoryRoot.Path, "deploy", "restore-drill", "spe-restore-drill.sh");

    private readonly string _root = Directory.CreateTempSubdirectory("spe-drill-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    [Trait("Requirement", "OPR-24")]
    public async Task The_newest_complete_backup_is_drilled_with_the_keys_and_the_outcome_recorded()
    {
        var backups = Backups("spe-backup-20261201T000000Z", "spe-backup-20261205T000000Z", "spe-backup-20261205T000000Z-1");
        Directory.CreateDirectory(Path.Combine(backups, "spe-backup-20261206T000000Z")); // still being written: no manifest yet
        Directory.CreateDirectory(Path.Combine(backups, "unrelated-20991231"));
        var (spe, arguments) = StandIn(exitCode: 0);

        var (code, stderr) = await RunAsync(backups, spe, ("SPE_AUDIT_PUBLIC_KEY", "/keys/audit.pub"), ("SPE_WITNESS", "/keys/witness.json"));

        Assert.Equal(0, code);
        Assert.Equal(
            ["backup", "verify", Path.Combine(backups, "spe-backup-20261205T000000Z-1"), "--sk", "/keys/backup.sec", "--record",
                "--public-key", "/keys/audit.pub", "--witness", "/keys/witness.json"],
            await File.ReadAllLinesAsync(arguments));
        Assert.Contains("spe-backup-20261205T000000Z-1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-24")]
    public async Task A_failed_drill_fails_the_run()
    {
        var backups = Backups("spe-backup-20261201T000000Z");
        var (spe, _) = StandIn(exitCode: 1);

        var (code, _) = await RunAsync(backups, spe);

        Assert.Equal(1, code);
    }

    [Fact]
    [Trait("Requirement", "OPR-24")]
    public async Task Without_a_complete_backup_nothing_is_drilled_and_the_run_fails()
    {
        var backups = Backups();
        Directory.CreateDirectory(Path.Combine(backups, "spe-backup-20261206T000000Z"));
        var (spe, arguments) = StandIn(exitCode: 0);

        var (code, stderr) = await RunAsync(backups, spe);

        Assert.Equal(2, code);
        Assert.Contains("no complete backup", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(arguments));
    }

    [Fact]
    [Trait("Requirement", "OPR-24")]
    public async Task Without_the_secret_key_setting_nothing_is_drilled()
    {
        var backups = Backups("spe-backup-20261201T000000Z");
        var (spe, arguments) = StandIn(exitCode: 0);

        var (code, stderr) = await RunAsync(backups, spe, withKey: false);

        Assert.NotEqual(0, code);
        Assert.Contains("SPE_BACKUP_SECRET_KEY", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(arguments));
    }

    [Fact]
    [Trait("Requirement", "OPR-24")]
    public async Task The_real_spe_accepts_the_arguments_the_script_builds()
    {
        var backups = Backups("spe-backup-20261201T000000Z");
        var spe = Path.Combine(_root, "spe");
        await File.WriteAllTextAsync(spe, $"#!/bin/sh\nexec dotnet '{SpeProcess.EntryAssembly}' \"$@\"\n");
        File.SetUnixFileMode(spe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var key = Path.Combine(_root, "backup.sec");
        await File.WriteAllTextAsync(key, "not a key");

        var (code, stderr) = await RunAsync(backups, spe, ("SPE_BACKUP_SECRET_KEY", key), ("SPE_AUDIT_PUBLIC_KEY", key), ("SPE_WITNESS", key),
            ("SPE_SCRATCH_DATABASE", "Host=127.0.0.1"), ("SPE_CONFIG_DIR", Path.Combine(_root, "config")));

        // The drill fails (no session, no real backup or key), but not on its command line: a parse error names the verb's help.
        Assert.NotEqual(0, code);
        Assert.Contains("drilling", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--help", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unrecognized", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("required", stderr, StringComparison.OrdinalIgnoreCase);
    }

    private string Backups(params string[] complete)
    {
        var backups = Path.Combine(_root, "backups");
        Directory.CreateDirectory(backups);
        foreach (var name in complete)
        {
            Directory.CreateDirectory(Path.Combine(backups, name));
            File.WriteAllBytes(Path.Combine(backups, name, "manifest.c4gh"), [1]);
        }

        return backups;
    }

    /// <summary>A stand-in for <c>spe</c> that writes its arguments, one per line, and exits with <paramref name="exitCode"/>.</summary>
    private (string Command, string Arguments) StandIn(int exitCode)
    {
        var command = Path.Combine(_root, "spe-stand-in");
        var arguments = Path.Combine(_root, "arguments");
        File.WriteAllText(command, $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{arguments}'\nexit {exitCode}\n");
        File.SetUnixFileMode(command, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return (command, arguments);
    }

    private static async Task<(int Code, string Stderr)> RunAsync(string backups, string spe, params (string Name, string Value)[] settings) =>
        await RunAsync(backups, spe, withKey: true, settings);

    private static async Task<(int Code, string Stderr)> RunAsync(string backups, string spe, bool withKey, params (string Name, string Value)[] settings)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Script);
        info.Environment["SPE_BACKUP_DIRECTORY"] = backups;
        info.Environment["SPE_COMMAND"] = spe;
        info.Environment.Remove("SPE_BACKUP_SECRET_KEY");
        if (withKey)
        {
            info.Environment["SPE_BACKUP_SECRET_KEY"] = "/keys/backup.sec";
        }

        foreach (var (name, value) in settings)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;
        return (process.ExitCode, await stderr);
    }
}
