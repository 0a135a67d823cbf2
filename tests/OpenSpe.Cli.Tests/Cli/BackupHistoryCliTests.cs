using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe backup history</c> against a real server (OPR-27): operators and auditors see the backups and the drills
/// recorded; every other role gets the server's refusal and nothing on standard output; a bad limit is the server's 400.
/// </summary>
public sealed class BackupHistoryCliTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync();

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task Operators_and_auditors_see_the_drills_recorded()
    {
        using var op = await _f.Server.ClientForAccountAsync("operator");
        await using var auditor = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("auditor"));
        var (emptyCode, empty, _) = await auditor.RunAsync("backup", "history");
        var recorded = await op.PostAsJsonAsync("/api/v1/operations/backups/drills",
            new { backup = "spe-backup-20261129T060000Z", passed = false, backupCreatedAt = PermitFixture.Start.AddHours(-6), auditRecords = 12, readyStatus = 503, problem = "not ready" },
            TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await auditor.RunAsync("backup", "history");
        var (jsonCode, json, _) = await auditor.RunAsync("backup", "history", "--json");

        Assert.Equal(0, emptyCode);
        Assert.Contains("No backups or drills recorded.", empty, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        Assert.True(code == 0, stderr);
        Assert.Contains("spe-backup-20261129T060000Z", stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED (by operator)", stdout, StringComparison.Ordinal);
        Assert.Equal(0, jsonCode);
        var drill = JsonDocument.Parse(json).RootElement.GetProperty("lastDrill");
        Assert.Equal("error", drill.GetProperty("outcome").GetString());
        Assert.Equal("not ready", drill.GetProperty("details").GetProperty("problem").GetString());
    }

    [Theory]
    [Trait("Requirement", "OPR-27")]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("hdab")]
    [InlineData("admin")]
    public async Task Other_roles_get_the_refusal_and_nothing_on_standard_output(string account)
    {
        await using var caller = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync(account));

        var (code, stdout, stderr) = await caller.RunAsync("backup", "history");

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task A_limit_out_of_range_is_the_servers_field_error()
    {
        await using var op = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("operator"));

        var (code, stdout, stderr) = await op.RunAsync("backup", "history", "--limit", "0");

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains("limit", stderr, StringComparison.Ordinal);
    }
}
