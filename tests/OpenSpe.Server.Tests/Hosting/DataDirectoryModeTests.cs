using System.Net;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>
/// Owner-only data (issue #11 item 8): `spe.db*` were 0644 and `data-protection/` 0755, readable by every
/// account on the host. Every file in the data directory is 0600 and every directory 0700.
/// </summary>
public sealed class DataDirectoryModeTests
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Fresh_spe_server_started_with_umask_022_keeps_every_file_0600_and_every_directory_0700()
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        await using (var server = await SpeServerProcess.StartAsync(data))
        {
            using var client = server.Client();
            // A request that writes (audit records into the WAL), so spe.db-wal and spe.db-shm exist.
            using var response = await client.GetAsync(new Uri("/api/v1/server/info", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            AssertOwnerOnly(data, ["spe.db", "spe.db-wal", "spe.db-shm", "data-protection"]);
            await server.StopAsync();
        }

        AssertOwnerOnly(data, ["spe.db", "data-protection"]);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Loose_modes_left_in_a_data_directory_are_tightened_at_start()
    {
        var first = await SpeTestServer.StartAsync();
        await using (first)
        {
            await first.StopKeepingDataAsync();
            var data = Path.Combine(first.DataDirectory, "data");
            foreach (var entry in new DirectoryInfo(data).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
            {
                entry.UnixFileMode = entry is DirectoryInfo ? OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                    : OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            }

            await using var second = await SpeTestServer.StartAsync(reuseDirectory: first.DataDirectory);

            AssertOwnerOnly(data, ["spe.db", "data-protection"]);
        }
    }

    private static void AssertOwnerOnly(string data, string[] expected)
    {
        var entries = new DirectoryInfo(data).EnumerateFileSystemInfos("*", SearchOption.AllDirectories).ToList();
        Assert.All(expected, name => Assert.Contains(entries, e => e.Name == name));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(data));
        Assert.All(entries, e => Assert.True(
            e.UnixFileMode == (e is DirectoryInfo ? OwnerOnlyDirectory : OwnerOnlyFile),
            $"{Path.GetRelativePath(data, e.FullName)} is {Convert.ToString((int)e.UnixFileMode, 8)}"));
    }
}
