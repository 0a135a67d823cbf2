using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Plaintext the airlock held for a moment (an export's files while checked, an import's decrypted copy while placed) does not
/// outlive a crash: the next start removes it (SDR-2), and nothing outside its directory.
/// </summary>
public sealed class AirlockWorkSweepTests
{
    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task What_an_interrupted_check_or_placement_left_is_removed_at_the_next_start_and_nothing_else()
    {
        using var directory = new TempDirectory();
        await using (await SpeTestServer.StartAsync(reuseDirectory: directory.Path))
        {
        }

        var work = Path.Combine(directory.Path, "data", "airlock-work");
        Directory.CreateDirectory(Path.Combine(work, "exp-0123"));
        await File.WriteAllTextAsync(Path.Combine(work, "exp-0123", "table.csv"), "gender,count\nF,3\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(work, "place-0123"), "print('helper')\n", TestContext.Current.CancellationToken);
        // A link planted there is removed as a link: what it points at stays.
        var outside = Path.Combine(directory.Path, "outside");
        Directory.CreateDirectory(outside);
        await File.WriteAllTextAsync(Path.Combine(outside, "keep.txt"), "kept", TestContext.Current.CancellationToken);
        File.CreateSymbolicLink(Path.Combine(work, "link"), outside);

        await using var second = await SpeTestServer.StartAsync(reuseDirectory: directory.Path);

        Assert.Empty(Directory.EnumerateFileSystemEntries(work));
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(outside, "keep.txt"), TestContext.Current.CancellationToken));
        using var client = await second.ClientForAccountAsync("auditor");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/api/v1/audit/verify", TestContext.Current.CancellationToken)).StatusCode);
    }
}
