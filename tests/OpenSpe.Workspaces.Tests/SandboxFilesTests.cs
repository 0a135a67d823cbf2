namespace OpenSpe.Workspaces.Tests;

/// <summary>What a sandbox may do with its project's files (SPER-5, SDR-4).</summary>
public sealed class SandboxFilesTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Sandbox_CanReadDataButNotWriteIt()
    {
        await using var lease = await sandbox.StageAsync("files-data", "sub/cohort.csv", "id,age\n1,40\n");

        var result = await sandbox.RunAsync("files-data",
            "cat /data/sub/cohort.csv; touch /data/new 2>/dev/null && echo WROTE; echo x >> /data/sub/cohort.csv 2>/dev/null && echo APPENDED; rm /data/sub/cohort.csv 2>/dev/null && echo REMOVED; echo end",
            data: lease);

        Assert.Equal("id,age\n1,40\nend\n", result.Output);
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Sandbox_WithoutDataSeesAnEmptyReadOnlyData()
    {
        var result = await sandbox.RunAsync("files-nodata", "ls -A /data; touch /data/x 2>/dev/null && echo WROTE; touch /newfile 2>/dev/null && echo ROOTWRITE; echo end");

        Assert.Equal("end\n", result.Output);
    }

    [Fact]
    [Trait("Requirement", "SPER-5")]
    public async Task Members_ShareProjectButWriteOwnHomeAndOutputs()
    {
        var first = await sandbox.RunAsync("files-shared", "echo shared > /project/analysis.py && echo result > /outputs/table.csv && echo mine > ~/notes && pwd && echo $HOME",
            member: "alice");
        Assert.Equal("/project\n/home/alice\n", first.Output);

        var second = await sandbox.RunAsync("files-shared", "cat /project/analysis.py /outputs/table.csv; ls /home; cat /home/alice/notes 2>/dev/null; echo end",
            member: "bob");

        Assert.Equal("shared\nresult\nbob\nend\n", second.Output);
    }

    [Fact]
    public async Task Process_StreamsAndExitCodeComeThrough()
    {
        var result = await sandbox.RunAsync("files-io", "read line; echo out:$line; echo err >&2; exit 3", input: "hello\n");

        Assert.Equal("out:hello\n", result.Output);
        Assert.Equal("err\n", result.Error);
        Assert.Equal(new WorkspaceExit(3, null, false), result.Exit);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task HostFiles_GetExplicitModesUnderUmask077()
    {
        // The test assembly runs under umask 077 (SandboxFixture); the sandbox must still read its generated /etc.
        await using var lease = await sandbox.StageAsync("files-modes", "d.csv", "x");
        var result = await sandbox.RunAsync("files-modes", "whoami; cat /data/d.csv", data: lease);
        Assert.Equal("alice\nx", result.Output);

        var uid = sandbox.Identities.UidOf("files-modes");
        var project = Path.Join(sandbox.Options.Root, "projects", "files-modes");
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(project)); // 0700
        Assert.Equal((UnixFileMode)0x1C9, File.GetUnixFileMode(sandbox.Options.Root)); // 0711
        var staged = sandbox.Staging.DirectoryOf("files-modes");
        Assert.Equal((UnixFileMode)0x1E8, File.GetUnixFileMode(staged)); // 0750
        Assert.Equal((UnixFileMode)0x120, File.GetUnixFileMode(Path.Join(staged, "d.csv"))); // 0440
        Assert.Equal(uid.ToString(System.Globalization.CultureInfo.InvariantCulture), await SandboxFixture.OwnerAsync(staged));
    }
}
