using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Workspaces.Bubblewrap;

namespace OpenSpe.Workspaces.Tests;

/// <summary>Configuration, names and identities: what is checked before any sandbox runs.</summary>
public sealed class RuntimeSetupTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task AddBubblewrapWorkspaces_BindsValidatesAndRegistersOneRuntime()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Workspaces:Root"] = sandbox.Options.Root,
            ["Workspaces:PlaintextRoot"] = sandbox.Options.PlaintextRoot,
            ["Workspaces:UidRangeStart"] = "300000",
            ["Workspaces:Limits:MaxProcesses"] = "64",
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddBubblewrapWorkspaces(configuration).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<WorkspaceOptions>>().Value;
        Assert.Equal(300_000, options.UidRangeStart);
        Assert.Equal(64, options.Limits.MaxProcesses);
        Assert.Same(services.GetRequiredService<IWorkspaceRuntime>(), services.GetRequiredService<IWorkspaceRuntime>());
        Assert.IsType<TmpfsPlaintextStaging>(services.GetRequiredService<IPlaintextStaging>());
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public void AddBubblewrapWorkspaces_BadConfigurationFailsWithOneLine()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Workspaces:Root"] = "relative/root",
            ["Workspaces:PlaintextRoot"] = "/var/tmp/openspe-plaintext",
            ["Workspaces:UidRangeStart"] = "60000",
            ["Workspaces:EtcEntries:0"] = "shadow",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddBubblewrapWorkspaces(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<WorkspaceOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("Root must be an absolute path", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("is not on tmpfs or ramfs", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("65534", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("'shadow'", StringComparison.Ordinal));
    }

    [Theory]
    [Trait("Requirement", "SPER-6")]
    [InlineData("../other", "alice")]
    [InlineData("a/b", "alice")]
    [InlineData(".hidden", "alice")]
    [InlineData("p", "../../etc")]
    [InlineData("p", "eve:x:0:0")]
    [InlineData("p", "Alice\nroot")]
    [InlineData("p", "")]
    public async Task Start_RefusesNamesThatCouldEscape(string projectId, string member)
    {
        var spec = new WorkspaceSpec { ProjectId = projectId, Member = member, Command = ["true"] };

        await Assert.ThrowsAsync<WorkspaceStartException>(() => sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken));

        Assert.False(Directory.Exists(Path.Join(sandbox.Options.Root, "other")));
    }

    [Theory]
    [Trait("Requirement", "SPER-6")]
    [Trait("Requirement", "FSPER-4")]
    [InlineData("root", "/opt/openspe/x")]
    [InlineData("workspace-root", "/opt/openspe/x")]
    [InlineData("under-workspace-root", "/opt/openspe/x")]
    [InlineData("plaintext-root", "/opt/openspe/x")]
    [InlineData("usr", "/data")]
    [InlineData("usr", "/opt/openspe/../../etc")]
    [InlineData("relative", "/opt/openspe/x")]
    public async Task Start_RefusesAProgramMountThatIsNotAPlainInstallDirectorySeenUnderOptOpenspe(string source, string target)
    {
        var host = source switch
        {
            "root" => "/",
            "workspace-root" => sandbox.Options.Root,
            "under-workspace-root" => Path.Join(sandbox.Options.Root, "projects"),
            "plaintext-root" => sandbox.Options.PlaintextRoot,
            "relative" => "usr/share",
            _ => "/usr/share",
        };
        Directory.CreateDirectory(Path.Join(sandbox.Options.Root, "projects"));
        var spec = new WorkspaceSpec { ProjectId = "prog-mount", Member = "alice", Command = ["true"], Programs = [new ProgramMount(host, target)] };

        await Assert.ThrowsAsync<WorkspaceStartException>(() => sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken));
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    public async Task A_program_mount_is_seen_read_only_under_opt_openspe()
    {
        var spec = new WorkspaceSpec
        {
            ProjectId = "prog-mount-ok",
            Member = "alice",
            Command = ["/bin/sh", "-c", "test -r /opt/openspe/share/dpkg/cputable && (touch /opt/openspe/share/x 2>/dev/null && echo writable || echo read-only)"],
            Programs = [new ProgramMount("/usr/share", "/opt/openspe/share")],
        };

        await using var process = await sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        await process.StandardInput.DisposeAsync();
        var output = await new StreamReader(process.StandardOutput).ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.Completion;

        Assert.Equal("read-only\n", output);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public void Identities_ArePerProjectAndSurviveARestart()
    {
        var first = sandbox.Identities.UidOf("id-one");
        var second = sandbox.Identities.UidOf("id-two");

        var restarted = new ProjectIdentities(sandbox.Options);

        Assert.NotEqual(first, second);
        Assert.Equal(first, restarted.UidOf("id-one"));
        Assert.Equal(second, restarted.UidOf("id-two"));
        Assert.NotEqual(first, restarted.UidOf("id-three"));
        Assert.NotEqual(second, restarted.UidOf("id-three"));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Path.Join(sandbox.Options.Root, "project-uids.tsv"))); // 0600
    }

    [Fact]
    public void Limits_AreCutToTheOperatorsCeiling()
    {
        var ceiling = new WorkspaceLimitsOptions { MemoryBytes = 1L << 30, CpuCores = 1, MaxProcesses = 100, MaxFileBytes = 1L << 20 };

        var limits = ceiling.Clamp(new WorkspaceLimits(8L << 30, 4, 1000, 1L << 30, TimeSpan.FromMinutes(5)));

        Assert.Equal(new WorkspaceLimits(1L << 30, 1, 100, 1L << 20, TimeSpan.FromMinutes(5)), limits);
    }
}
