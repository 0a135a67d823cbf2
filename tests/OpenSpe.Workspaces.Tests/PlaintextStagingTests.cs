using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Workspaces.Bubblewrap;

namespace OpenSpe.Workspaces.Tests;

/// <summary>Plaintext lives only in memory, only for the project, only while it is used (SDR-4).</summary>
public sealed class PlaintextStagingTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Staging_IsOnAMemoryBackedFilesystem()
    {
        await using var lease = await sandbox.StageAsync("stage-tmpfs", "a.csv", "x");

        Assert.True(Native.IsMemoryBacked(sandbox.Staging.DirectoryOf("stage-tmpfs")));
        Assert.StartsWith("/dev/shm/", sandbox.Staging.DirectoryOf("stage-tmpfs"), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Staging_RefusesAPlaintextRootOnADisk()
    {
        var options = new WorkspaceOptions { Root = sandbox.Options.Root, PlaintextRoot = Path.Join(sandbox.Options.Root, "not-tmpfs") };
        Assert.False(Native.IsMemoryBacked(sandbox.Options.Root), "the test needs /tmp on a disk");
        var staging = new TmpfsPlaintextStaging(options, sandbox.Identities, NullLogger<TmpfsPlaintextStaging>.Instance);
        var populated = false;

        await Assert.ThrowsAsync<WorkspaceStartException>(() => staging.AcquireAsync("stage-disk", (_, _) =>
        {
            populated = true;
            return Task.CompletedTask;
        }, TestContext.Current.CancellationToken));

        Assert.False(populated);
        Assert.False(staging.IsStaged("stage-disk"));
        Assert.Contains(new WorkspaceOptionsValidator().Validate(null, options).Failures!, f => f.Contains("PlaintextRoot", StringComparison.Ordinal));
    }

    [Theory]
    [Trait("Requirement", "SDR-4")]
    [InlineData("../escape.csv")]
    [InlineData("a/../../escape.csv")]
    [InlineData("/tmp/escape.csv")]
    [InlineData("")]
    [InlineData("a//b.csv")]
    [InlineData("./a.csv")]
    [InlineData("a\\..\\b.csv")]
    [InlineData("a/..")]
    public async Task Writer_RefusesPathsThatLeaveTheStagingDirectory(string name)
    {
        Exception? refused = null;

        await using (var lease = await sandbox.Staging.AcquireAsync("stage-traversal", (writer, _) =>
        {
            refused = Record.Exception(() => writer.Create(name).Dispose());
            return Task.CompletedTask;
        }, TestContext.Current.CancellationToken))
        {
            Assert.IsType<ArgumentException>(refused);
            Assert.Empty(Directory.EnumerateFileSystemEntries(sandbox.Staging.DirectoryOf("stage-traversal")));
        }

        Assert.False(File.Exists(Path.Join(sandbox.Options.PlaintextRoot, "escape.csv")));
        Assert.False(File.Exists("/tmp/escape.csv"));
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Leases_FillOnceAndTheLastReleaseRemovesThePlaintext()
    {
        var fills = 0;
        async Task Populate(IPlaintextWriter writer, CancellationToken ct)
        {
            Interlocked.Increment(ref fills);
            await using var stream = writer.Create("d/cohort.csv");
            await stream.WriteAsync(Encoding.UTF8.GetBytes("rows"), ct);
        }

        var leases = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => sandbox.Staging.AcquireAsync("stage-leases", Populate, TestContext.Current.CancellationToken)));
        Assert.Equal(1, fills);
        var file = Path.Join(sandbox.Staging.DirectoryOf("stage-leases"), "d", "cohort.csv");
        Assert.Equal("rows", File.ReadAllText(file));

        foreach (var lease in leases[..4])
        {
            await lease.DisposeAsync();
            await lease.DisposeAsync(); // a second dispose must not release someone else's hold
        }

        Assert.True(sandbox.Staging.IsStaged("stage-leases"));
        Assert.True(leases[4].IsValid);
        await leases[4].DisposeAsync();

        Assert.False(sandbox.Staging.IsStaged("stage-leases"));
        Assert.False(Directory.Exists(sandbox.Staging.DirectoryOf("stage-leases")));
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task FailedFill_LeavesNothingStaged()
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => sandbox.Staging.AcquireAsync("stage-fail", async (writer, ct) =>
        {
            await using (var stream = writer.Create("half.csv"))
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes("half"), ct);
            }

            throw new InvalidDataException("decryption failed");
        }, TestContext.Current.CancellationToken));

        Assert.False(sandbox.Staging.IsStaged("stage-fail"));
        Assert.False(Directory.Exists(sandbox.Staging.DirectoryOf("stage-fail")));
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Acquire_WithADatasetNoLongerPermitted_RemovesItAndFillsOnlyWhatIsMissing()
    {
        var permitted = new[] { "keep", "gone" };
        var filled = new List<string>();
        Task<IPlaintextLease> Acquire() => sandbox.Staging.AcquireAsync("stage-withdraw", _ => Task.FromResult<IReadOnlyCollection<string>>(permitted),
            async (writer, datasets, ct) =>
            {
                foreach (var dataset in datasets)
                {
                    filled.Add(dataset);
                    await using var stream = writer.Create($"{dataset}/rows.csv");
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(dataset), ct);
                }
            }, TestContext.Current.CancellationToken);
        var directory = sandbox.Staging.DirectoryOf("stage-withdraw");

        await using var first = await Acquire();
        Assert.True(File.Exists(Path.Join(directory, "gone", "rows.csv")));
        permitted = ["keep", "added"];
        await using var second = await Acquire();

        Assert.False(Directory.Exists(Path.Join(directory, "gone")));
        Assert.Equal("keep", File.ReadAllText(Path.Join(directory, "keep", "rows.csv")));
        Assert.Equal("added", File.ReadAllText(Path.Join(directory, "added", "rows.csv")));
        Assert.Equal(["keep", "gone", "added"], filled);
        Assert.True(first.IsValid);
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task Retain_RemovesWithdrawnDatasetsAtOnceAndKeepsTheOthers()
    {
        await using var lease = await sandbox.Staging.AcquireAsync("stage-retain", _ => Task.FromResult<IReadOnlyCollection<string>>(["keep", "gone"]),
            async (writer, datasets, ct) =>
            {
                foreach (var dataset in datasets)
                {
                    await using var stream = writer.Create($"{dataset}/rows.csv");
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(dataset), ct);
                }
            }, TestContext.Current.CancellationToken);
        var directory = sandbox.Staging.DirectoryOf("stage-retain");

        await sandbox.Staging.RetainAsync("stage-retain", ["keep"], TestContext.Current.CancellationToken);

        Assert.False(Directory.Exists(Path.Join(directory, "gone")));
        Assert.True(File.Exists(Path.Join(directory, "keep", "rows.csv")));
        Assert.True(lease.IsValid);
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task StaleLease_AfterRemovalDoesNotReleaseTheNextStaging()
    {
        var old = await sandbox.StageAsync("stage-stale", "a.csv", "1");
        await sandbox.Staging.RemoveAsync("stage-stale", TestContext.Current.CancellationToken);
        Assert.False(old.IsValid);

        await using var fresh = await sandbox.StageAsync("stage-stale", "a.csv", "2");
        await old.DisposeAsync();

        Assert.True(fresh.IsValid);
        Assert.Equal("2", File.ReadAllText(Path.Join(sandbox.Staging.DirectoryOf("stage-stale"), "a.csv")));
    }
}
