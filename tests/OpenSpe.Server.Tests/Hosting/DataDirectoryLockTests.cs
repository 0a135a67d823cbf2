using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>
/// One server per data directory (issue #11 item 8): a second `spe server` on a live directory once
/// printed a stack trace and appended its own `server.started` records to the live server's audit chain.
/// </summary>
public sealed class DataDirectoryLockTests
{
    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Second_server_on_a_live_directory_is_refused_and_adds_no_audit_record()
    {
        await using var live = await SpeTestServer.StartAsync();
        var before = await AuditSnapshotAsync(live);

        var error = await Assert.ThrowsAsync<SpeConfigurationException>(() => SpeTestServer.StartAsync(reuseDirectory: live.DataDirectory));

        Assert.Contains("is in use by another server", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(before, await AuditSnapshotAsync(live));
        using var healthz = await live.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.True(healthz.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Directory_is_free_again_once_its_server_has_stopped()
    {
        await using var first = await SpeTestServer.StartAsync();
        await first.StopKeepingDataAsync();

        await using var second = await SpeTestServer.StartAsync(reuseDirectory: first.DataDirectory);

        Assert.Equal(2, await CountAsync(second, "SELECT COUNT(*) FROM audit_records WHERE action = 'server.started'"));
    }

    [Fact]
    public async Task Spe_server_on_a_live_directory_exits_1_with_one_line()
    {
        await using var live = await SpeTestServer.StartAsync();
        var before = await AuditSnapshotAsync(live);

        var (code, stdout, stderr) = await SpeProcess.RunAsync(
            "server", "--dev", "--data-dir", Path.Combine(live.DataDirectory, "data"), "--urls", $"https://127.0.0.1:{SpeTestServer.FreePort()}");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("spe server: data directory ", stderr, StringComparison.Ordinal);
        Assert.Contains("is in use by another server", stderr, StringComparison.Ordinal);
        Assert.Equal(before, await AuditSnapshotAsync(live));
    }

    private static async Task<(long Records, long Started)> AuditSnapshotAsync(SpeTestServer server) =>
        (await CountAsync(server, "SELECT COUNT(*) FROM audit_records"),
         await CountAsync(server, "SELECT COUNT(*) FROM audit_records WHERE action = 'server.started'"));

    private static async Task<long> CountAsync(SpeTestServer server, string sql)
    {
        await using var connection = await server.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
