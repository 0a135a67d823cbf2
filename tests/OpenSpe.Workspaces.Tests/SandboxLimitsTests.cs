namespace OpenSpe.Workspaces.Tests;

/// <summary>Limits and stopping: a sandbox cannot exhaust the host and leaves nothing behind (SPER-6, SDR-4).</summary>
public sealed class SandboxLimitsTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task MemoryLimit_KillsAHog()
    {
        var result = await sandbox.RunAsync("lim-mem", "python3 -c \"b = b'x' * (512 << 20); print('ALLOCATED')\"",
            limits: WorkspaceLimits.Default with { MemoryBytes = 64L << 20 });

        Assert.DoesNotContain("ALLOCATED", result.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, result.Exit.ExitCode);
        if (sandbox.Runtime.CgroupControllers.Contains("memory"))
        {
            // The cgroup's OOM killer ended it, and the runtime says so.
            Assert.True(result.Exit.LimitHit, result.Error);
        }
        else
        {
            // RLIMIT_AS: the allocation fails inside Python.
            Assert.Contains("MemoryError", result.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task CpuTimeLimit_EndsABusyLoop()
    {
        var result = await sandbox.RunAsync("lim-cpu", "while :; do :; done",
            limits: WorkspaceLimits.Default with { CpuTime = TimeSpan.FromSeconds(1) });

        Assert.True(result.Exit.LimitHit);
        Assert.Null(result.Exit.StoppedBy);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task FileSizeLimit_StopsAWriteToTheProject()
    {
        var result = await sandbox.RunAsync("lim-fsize", "head -c 2000000 /dev/zero > /project/big; echo status=$?; stat -c %s /project/big",
            limits: WorkspaceLimits.Default with { MaxFileBytes = 1_000_000 });

        Assert.Contains("1000000", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("2000000", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task ProcessLimit_StopsAForkBomb()
    {
        var result = await sandbox.RunAsync("lim-pids", "for i in $(seq 64); do sleep 30 & done; echo SPAWNED-ALL",
            limits: WorkspaceLimits.Default with { MaxProcesses = 16 });

        Assert.DoesNotContain("SPAWNED-ALL", result.Output, StringComparison.Ordinal);
        Assert.Contains("fork", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Stop_KillsBackgroundedGrandchildren()
    {
        sandbox.RequireSandbox();
        var spec = new WorkspaceSpec
        {
            ProjectId = "lim-stop",
            Member = "alice",
            Command = ["/bin/sh", "-c", "setsid sleep 1000 & (sleep 1000 &) ; sleep 1000 & echo ready; wait"],
        };
        var uid = sandbox.Identities.UidOf("lim-stop");
        await using var process = await sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(process.StandardOutput);
        Assert.Equal("ready", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.NotEmpty(SandboxFixture.HostProcessesOf(uid));

        await process.StopAsync(WorkspaceStopReason.Requested, TestContext.Current.CancellationToken);

        Assert.Equal(WorkspaceStopReason.Requested, (await process.Completion).StoppedBy);
        Assert.Empty(SandboxFixture.HostProcessesOf(uid));
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task StopProject_KillsEverythingAndRemovesPlaintextDespiteLeases()
    {
        sandbox.RequireSandbox();
        var lease = await sandbox.StageAsync("lim-halt", "cohort.csv", "secret rows");
        var spec = new WorkspaceSpec { ProjectId = "lim-halt", Member = "alice", Command = ["/bin/sh", "-c", "echo ready; sleep 1000"], Data = lease };
        await using var first = await sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        await using var second = await sandbox.Runtime.StartAsync(spec with { Member = "bob" }, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(second.StandardOutput);
        Assert.Equal("ready", await reader.ReadLineAsync(TestContext.Current.CancellationToken));

        await sandbox.Runtime.StopProjectAsync("lim-halt", WorkspaceStopReason.Halted, TestContext.Current.CancellationToken);

        Assert.Equal(WorkspaceStopReason.Halted, (await first.Completion).StoppedBy);
        Assert.Equal(WorkspaceStopReason.Halted, (await second.Completion).StoppedBy);
        Assert.False(sandbox.Staging.IsStaged("lim-halt"));
        Assert.False(lease.IsValid);
        Assert.False(Directory.Exists(sandbox.Staging.DirectoryOf("lim-halt")));
        Assert.Empty(SandboxFixture.HostProcessesOf(sandbox.Identities.UidOf("lim-halt")));
        await Assert.ThrowsAsync<WorkspaceStartException>(() => sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken));
        await lease.DisposeAsync();
    }
}
