using System.Net;
using System.Net.Sockets;

namespace OpenSpe.Workspaces.Tests;

/// <summary>What a sandbox must not reach: the network, the host's processes and files, other projects (SPER-6, SDR-4).</summary>
public sealed class SandboxIsolationTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    [Trait("Requirement", "SPER-6")]
    [Trait("Requirement", "TIR-23")]
    public async Task Sandbox_CannotConnectToHostLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await sandbox.RunAsync("iso-net", $"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo CONNECTED");

        Assert.DoesNotContain("CONNECTED", result.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, result.Exit.ExitCode);
        Assert.False(listener.Pending());
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_CannotResolveOrReachOutsideAddresses()
    {
        var result = await sandbox.RunAsync("iso-net",
            "getent hosts example.org && echo RESOLVED; bash -c 'exec 3<>/dev/tcp/1.1.1.1/443' && echo REACHED; bash -c 'exec 3<>/dev/tcp/8.8.8.8/53' && echo REACHED; echo done");

        Assert.Equal("done\n", result.Output);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_SeesOnlyItsOwnLoopbackInterface()
    {
        var result = await sandbox.RunAsync("iso-net", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");

        Assert.Equal("lo\n", result.Output);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_CannotSeeHostProcesses()
    {
        var result = await sandbox.RunAsync("iso-pid", $"ls /proc | grep -E '^[0-9]+$'; test -e /proc/{Environment.ProcessId}/status && echo HOSTPID");

        var pids = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain("HOSTPID", pids);
        // Only the sandbox's own few processes (its init, the shell, ls, grep).
        Assert.InRange(pids.Length, 1, 8);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    [Trait("Requirement", "SDR-4")]
    public async Task Sandbox_CannotReadServerDataDirectory()
    {
        // A stand-in for the server's data directory, world-readable on purpose: only not mounting it protects it.
        var dataDirectory = Path.Join(Path.GetTempPath(), "openspe-server-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var secret = Path.Join(dataDirectory, "vault.key");
        File.WriteAllText(secret, "SERVER-SECRET");
        File.SetUnixFileMode(dataDirectory, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(secret, (UnixFileMode)0x1A4);
        try
        {
            var result = await sandbox.RunAsync("iso-files", $"cat {secret}; ls {dataDirectory}; ls /; cat /etc/shadow; ls /root /var /srv /opt");

            Assert.DoesNotContain("SERVER-SECRET", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("vault.key", result.Output, StringComparison.Ordinal);
            var root = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            Assert.Subset(new HashSet<string> { "bin", "data", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "outputs", "proc", "project", "sbin", "tmp", "usr" }, root);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_CannotReadAnotherProjectsDataOrProject()
    {
        await using var lease = await sandbox.StageAsync("iso-a", "cohort.csv", "A-PLAINTEXT");
        var written = await sandbox.RunAsync("iso-a", "echo A-PROJECT > /project/notes.txt && cat /data/cohort.csv", data: lease);
        Assert.Equal("A-PLAINTEXT", written.Output);

        var other = await sandbox.RunAsync("iso-b",
            $"cat /project/notes.txt /data/cohort.csv; cat {sandbox.Staging.DirectoryOf("iso-a")}/cohort.csv; cat {sandbox.Options.Root}/projects/iso-a/project/notes.txt; ls /data /project");

        Assert.DoesNotContain("A-PLAINTEXT", other.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("A-PROJECT", other.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("notes.txt", other.Output, StringComparison.Ordinal);
        Assert.NotEqual(sandbox.Identities.UidOf("iso-a"), sandbox.Identities.UidOf("iso-b"));
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_RunsAsTheProjectsNonRootUid()
    {
        var result = await sandbox.RunAsync("iso-uid", "id -u; id -un; grep -c CapEff:.0000000000000000 /proc/self/status");

        var uid = sandbox.Identities.UidOf("iso-uid");
        Assert.Equal($"{uid}\nalice\n1\n", result.Output);
        Assert.NotEqual(0, uid);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_EnvironmentHasNothingOfTheServer()
    {
        Environment.SetEnvironmentVariable("SPE_TEST_CANARY_SECRET", "do-not-leak");

        var result = await sandbox.RunAsync("iso-env", "env | cut -d= -f1 | sort");

        Assert.DoesNotContain("do-not-leak", result.Output, StringComparison.Ordinal);
        Assert.Equal("HOME LANG LOGNAME MPLBACKEND PATH PWD SHELL TMPDIR USER", string.Join(' ', result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
